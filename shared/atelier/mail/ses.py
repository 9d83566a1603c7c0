"""Sending one e-mail: the port, and its adapter over SES (sesv2). Locally SES is moto's."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from atelier.mail.render import Message

if TYPE_CHECKING:
    from atelier.kernel.settings import MailSettings


class MailError(Exception):
    """SES did not take the message. `permanent`: sending it again will not help (a rejected address, say)."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


class Mailer(Protocol):
    def send(self, recipient: str, message: Message) -> str:
        """Send; returns the provider's message id, or raises MailError."""
        ...


PERMANENT = {
    "MessageRejected",
    "MailFromDomainNotVerifiedException",
    "AccountSuspendedException",
    "SendingPausedException",
    "BadRequestException",
    "NotFoundException",
}


class SesMailer:
    def __init__(
        self, client: Any, *, sender: str, reply_to: str | None = None, configuration_set: str | None = None
    ) -> None:
        self._client = client
        self._sender = sender
        self._reply_to = reply_to
        self._configuration_set = configuration_set

    def send(self, recipient: str, message: Message) -> str:
        from botocore.exceptions import BotoCoreError, ClientError

        content: dict[str, Any] = (
            {"Raw": {"Data": self._mime(recipient, message)}}
            if message.attachments
            else {
                "Simple": {
                    "Subject": {"Data": message.subject, "Charset": "UTF-8"},
                    "Body": {
                        "Text": {"Data": message.text, "Charset": "UTF-8"},
                        "Html": {"Data": message.html, "Charset": "UTF-8"},
                    },
                }
            }
        )
        request: dict[str, Any] = {
            "FromEmailAddress": self._sender,
            "Destination": {"ToAddresses": [recipient]},
            "Content": content,
        }
        if self._reply_to:
            request["ReplyToAddresses"] = [self._reply_to]
        if self._configuration_set:
            request["ConfigurationSetName"] = self._configuration_set
        try:
            answer = self._client.send_email(**request)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            raise MailError(f"SES refused the message: {code}", permanent=code in PERMANENT) from None
        except BotoCoreError as exc:
            raise MailError(f"SES could not be reached: {type(exc).__name__}", permanent=False) from None
        return str(answer.get("MessageId") or "")

    def _mime(self, recipient: str, message: Message) -> bytes:
        """A message with attachments, as SES takes it raw: text and HTML alternatives, then each file."""
        from email.message import EmailMessage

        mime = EmailMessage()
        mime["Subject"] = message.subject
        mime["From"] = self._sender
        mime["To"] = recipient
        if self._reply_to:
            mime["Reply-To"] = self._reply_to
        mime.set_content(message.text)
        mime.add_alternative(message.html, subtype="html")
        for item in message.attachments:
            maintype, _, subtype = item.content_type.partition("/")
            mime.add_attachment(item.data, maintype=maintype, subtype=subtype, filename=item.filename)
        return mime.as_bytes()


def mailer_from_settings(config: MailSettings) -> SesMailer:
    """SES (v2) from the business's sender; the local stack's moto (`ses_endpoint_url`) takes any credentials."""
    import os

    import boto3

    options: dict[str, Any] = {}
    if config.ses_endpoint_url:
        options = {
            "endpoint_url": config.ses_endpoint_url,
            "region_name": os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
            "aws_access_key_id": "local",
            "aws_secret_access_key": "local",
        }
    return SesMailer(
        boto3.client("sesv2", **options),
        sender=str(config.mail_from),
        reply_to=config.mail_reply_to,
        configuration_set=config.mail_configuration_set,
    )
