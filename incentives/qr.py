"""QR codes of signed tokens (a voucher's, a credit pass's), as PNG or SVG."""

import io
from typing import Literal

import qrcode
import qrcode.image.svg
from django.http import HttpResponse


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


_FORMATS = {"png": (qr_png, "image/png"), "svg": (qr_svg, "image/svg+xml")}


def qr_response(token: str, image: Literal["png", "svg"], *, cache_control: str) -> HttpResponse:
    """The token's QR as an HTTP answer in that image format."""
    render, content_type = _FORMATS[image]
    return HttpResponse(
        render(token), content_type=content_type, headers={"Cache-Control": cache_control}
    )
