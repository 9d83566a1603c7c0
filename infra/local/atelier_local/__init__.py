"""The local stack: what stands in for AWS, Stripe and Notion when Atelier runs on one machine."""
