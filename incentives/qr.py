"""QR codes of signed tokens (a voucher's, a credit pass's), as PNG or SVG."""

import io

import qrcode
import qrcode.image.svg


def qr_code(token: str) -> qrcode.QRCode:
    """The QR of a token: medium error correction, the standard quiet zone."""
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4, box_size=10)
    qr.add_data(token)  # upper-case base32: QR alphanumeric mode
    qr.make(fit=True)
    return qr


def qr_png(token: str) -> bytes:
    buffer = io.BytesIO()
    qr_code(token).make_image().save(buffer, format="PNG")
    return buffer.getvalue()


def qr_svg(token: str) -> bytes:
    image = qr_code(token).make_image(image_factory=qrcode.image.svg.SvgPathImage)
    return image.to_string()
