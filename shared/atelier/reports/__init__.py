"""The owner's reports: one `report` rpc for a period, made into tables (`model`), SVG charts (`charts`), the page
(`page`), the Excel and PDF exports (`xlsx`, `pdf`), and the signed links that open them (`links`)."""
