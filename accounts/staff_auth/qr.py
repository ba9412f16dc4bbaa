"""The enrolment QR code as a `data:` PNG URL (the pages' CSP allows `img-src data:`), so
the secret never travels in a URL of its own."""

import base64
import io

import qrcode


def qr_data_url(text: str) -> str:
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4, box_size=6)
    qr.add_data(text)
    qr.make(fit=True)
    buffer = io.BytesIO()
    qr.make_image().save(buffer)  # PNG (qrcode's default image, Pillow)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
