"""The programme's reference data: the partner cities, the alliances of partner cities,
their credit schemes and each scheme's first rule version, the credit consent text and the
user agreement. Loaded by
`python manage.py bootstrap` (load_reference_data and load_agreement; seed_demo runs it
before its demo data), in production too:
no person, login or merchant is made here (those are accounts.demo and the other demo.py).

Idempotent: what exists is left as it is (an operator's later edit is not overwritten: an
alliance's members are set only when it is created); a city's empty English name is filled
in.
"""

from datetime import timedelta

from django.utils import timezone

from .credit.conversion import DEMO_SCHEMES
from .credit.grades import DEMO_GRADE_SCHEMES
from .credit.models import ConsentText, RuleVersion, Scheme
from .legal.models import Agreement
from .legal.texts import AGREEMENT_V1
from .models import Alliance, City
from .partner_cities import PARTNER_CITIES

# The alliances of docs/domain.md: (code, name, English name, member city codes). 京津冀晋
# has one partner city so far (北京, 河北 and 山西 cities join when they become partners).
ALLIANCES: list[tuple[str, str, str, list[str]]] = [
    (
        "yrd",
        "信用长三角（三省一市）",
        "Yangtze River Delta",
        ["310100", "320100", "320200", "320500", "320600", "330100", "330200", "340100"],
    ),
    (
        "ten-cities",
        "十城市信用建设战略合作联盟",
        "Ten-City Credit Alliance",
        [
            "330100",
            "350200",
            "120100",
            "460100",
            "460200",
            "330200",
            "370100",
            "410100",
            "610800",
            "420200",
        ],
    ),
    ("jjjj", "京津冀晋", "Beijing-Tianjin-Hebei-Shanxi", ["120100"]),
]

CONSENT_V1 = {
    "version": "2026-01",
    "title_zh": "信用信息查询授权书",
    "title_en": "Authorisation to query credit information",
    "body_zh": (
        "本人同意信游平台为判断本人能否享受守信激励优惠之目的，向本人户籍/常住城市的公共信用"
        "信息平台查询本人的城市信用分及是否列入严重失信主体名单，并在合作城市间按互认规则换算"
        "使用。查询结果仅用于上述目的，每次查询均有记录。本人可随时撤回本授权，撤回后平台不再"
        "发起新的查询，撤回不影响撤回前基于授权已进行的处理。"
    ),
    "body_en": (
        "I allow Xinyou to query my home city's public credit platform for my city credit "
        "score and whether I am on the list of seriously dishonest persons, only to decide "
        "whether I qualify for trust rewards, and to convert the result for partner cities "
        "under their mutual recognition rules. Every query is recorded. I may withdraw this "
        "authorisation at any time: no new query is made after that; processing done before "
        "withdrawal stays lawful."
    ),
}


# The schemes' English names (issue 23: the English mode names no scheme in Chinese);
# "(demo name)" marks a name the demo made up, as （演示名） does in Chinese.
SCHEME_NAMES_EN = {
    "钱江分": "Qianjiang Score",
    "茉莉分": "Jasmine Score",
    "黄石信用分（演示名）": "Huangshi Credit Score (demo name)",
    "金椰分": "Golden Coconut Score",
    "白鹭分": "Egret Score",
    "商鼎分": "Shangding Score",
    "阿福分": "A-Fu Score",
    "桂花分": "Osmanthus Score",
    "南京信用分（演示名）": "Nanjing Credit Score (demo name)",
    "天津信用分（演示名）": "Tianjin Credit Score (demo name)",
    "上海信用分（演示名）": "Shanghai Credit Score (demo name)",
    "南通信用分（演示名）": "Nantong Credit Score (demo name)",
    "宁波信用分（演示名）": "Ningbo Credit Score (demo name)",
    "合肥信用分（演示名）": "Hefei Credit Score (demo name)",
    "济南信用分（演示名）": "Jinan Credit Score (demo name)",
    "桃花分": "Peach Blossom Score",
}


def load_reference_data() -> None:
    """Create whatever is missing of the cities, alliances, schemes, rule versions and
    consent text."""
    _load_cities()
    _load_alliances()
    for spec in DEMO_SCHEMES:
        _load_scheme(
            spec,
            {"min_score": spec["min_score"], "max_score": spec["max_score"]},
            {
                f"{tier}_{end}": band[i]
                for tier, band in spec["bands"].items()
                for i, end in enumerate(("lo", "hi"))
            },
        )
    for spec in DEMO_GRADE_SCHEMES:
        _load_scheme(
            spec,
            {"kind": Scheme.Kind.GRADE, "grades": [g for g, _t in spec["grades"]]},
            {"grade_tiers": dict(spec["grades"])},
        )
    if not ConsentText.objects.filter(is_current=True).exists():
        ConsentText.objects.update_or_create(
            version=CONSENT_V1["version"], defaults={**CONSENT_V1, "is_current": True}
        )


def load_agreement() -> None:
    """Publish the first user agreement if none is current. Migration 0008 loads it too; it
    is apart from load_reference_data because a published agreement makes every login
    accept it first, which the tests that flush the database (and their fixtures calling
    load_reference_data) do not expect."""
    if not Agreement.objects.filter(is_current=True).exists():
        Agreement.objects.update_or_create(
            version=AGREEMENT_V1["version"], defaults={**AGREEMENT_V1, "is_current": True}
        )


def _load_cities() -> None:
    for code, name, name_en, province in PARTNER_CITIES:
        City.objects.get_or_create(
            code=code, defaults={"name": name, "name_en": name_en, "province": province}
        )
        City.objects.filter(code=code, name_en="").update(name_en=name_en)


def _load_alliances() -> None:
    for code, name, name_en, members in ALLIANCES:
        alliance, created = Alliance.objects.get_or_create(
            code=code, defaults={"name": name, "name_en": name_en}
        )
        if created:
            alliance.members.set(City.objects.filter(code__in=members))


def _load_scheme(spec: dict, kind_fields: dict, rule_fields: dict) -> None:
    """A scheme (owned by its first city), its version 1 a year back, and its cities."""
    owner = spec["cities"][0]
    scheme, _created = Scheme.objects.get_or_create(
        name=spec["name"],
        defaults={
            **kind_fields,
            "illustrative": spec["status"] != "published",
            "note": spec.get("note", "")[:200],
            "owner_city_id": owner,
        },
    )
    if not scheme.name_en and spec["name"] in SCHEME_NAMES_EN:  # filled in, never overwritten
        Scheme.objects.filter(pk=scheme.pk).update(name_en=SCHEME_NAMES_EN[spec["name"]])
    if scheme.owner_city_id is None:
        Scheme.objects.filter(pk=scheme.pk).update(owner_city_id=owner)
    if not scheme.rule_versions.exists():
        RuleVersion.objects.create(
            scheme=scheme,
            version=1,
            effective_from=timezone.now() - timedelta(days=365),
            **rule_fields,
        )
    City.objects.filter(code__in=spec["cities"], scheme__isnull=True).update(scheme=scheme)
