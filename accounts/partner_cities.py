"""The partner cities of the demo (docs/domain.md): code, name, English name, province."""

PARTNER_CITIES: list[tuple[str, str, str, str]] = [
    ("310100", "上海", "Shanghai", "上海"),
    ("320100", "南京", "Nanjing", "江苏"),
    ("320200", "无锡", "Wuxi", "江苏"),
    ("320500", "苏州", "Suzhou", "江苏"),
    ("320600", "南通", "Nantong", "江苏"),
    ("330100", "杭州", "Hangzhou", "浙江"),
    ("330200", "宁波", "Ningbo", "浙江"),
    ("340100", "合肥", "Hefei", "安徽"),
    ("350200", "厦门", "Xiamen", "福建"),
    ("120100", "天津", "Tianjin", "天津"),
    ("370100", "济南", "Jinan", "山东"),
    ("410100", "郑州", "Zhengzhou", "河南"),
    ("420200", "黄石", "Huangshi", "湖北"),
    ("460100", "海口", "Haikou", "海南"),
    ("460200", "三亚", "Sanya", "海南"),
    ("610800", "榆林", "Yulin", "陕西"),
    ("350100", "福州", "Fuzhou", "福建"),
]
