"""Where the partner cities are (city centre, WGS-84), for the travel-time signal, and the
great-circle distance between two of them."""

from math import asin, cos, radians, sin, sqrt

# code -> (latitude, longitude) of the city centre
CITY_CENTRES: dict[str, tuple[float, float]] = {
    "310100": (31.2304, 121.4737),  # 上海
    "320100": (32.0603, 118.7969),  # 南京
    "320200": (31.4912, 120.3119),  # 无锡
    "320500": (31.2989, 120.5853),  # 苏州
    "320600": (31.9802, 120.8943),  # 南通
    "330100": (30.2741, 120.1551),  # 杭州
    "330200": (29.8683, 121.5440),  # 宁波
    "340100": (31.8206, 117.2272),  # 合肥
    "350100": (26.0745, 119.2965),  # 福州
    "350200": (24.4798, 118.0894),  # 厦门
    "120100": (39.3434, 117.3616),  # 天津
    "110100": (39.9042, 116.4074),  # 北京
    "130100": (38.0428, 114.5149),  # 石家庄
    "140100": (37.8706, 112.5489),  # 太原
    "370100": (36.6512, 117.1201),  # 济南
    "410100": (34.7466, 113.6254),  # 郑州
    "420200": (30.1999, 115.0389),  # 黄石
    "460100": (20.0440, 110.1999),  # 海口
    "460200": (18.2528, 109.5120),  # 三亚
    "610800": (38.2852, 109.7346),  # 榆林
}

EARTH_RADIUS_KM = 6371.0


def distance_km(a: str, b: str) -> float | None:
    """Great-circle distance between two cities' centres; None if either is unknown."""
    if a == b:
        return 0.0
    pa, pb = CITY_CENTRES.get(a), CITY_CENTRES.get(b)
    if pa is None or pb is None:
        return None
    lat1, lon1, lat2, lon2 = map(radians, (*pa, *pb))
    h = sin((lat2 - lat1) / 2) ** 2 + cos(lat1) * cos(lat2) * sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * asin(sqrt(h))
