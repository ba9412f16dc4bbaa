"""Demo data of accounts: a superuser, city staff, alliance staff, and residents the sandbox
credit provider knows (the reference data they rely on, cities, schemes and texts, is
accounts.reference)."""

from core.roles import Role

from .credit.models import Consent, Standing
from .credit.services import give_consent, query_provider, sync_honours
from .legal.models import Agreement, AgreementAcceptance
from .models import User
from .reference import CONSENT_V1, load_reference_data

DEMO_PASSWORD = "Xinyou#2026"

# (phone, real name, role, city code)
DEMO_STAFF: list[tuple[str, str, str, str | None]] = [
    ("13800000000", "平台管理员", Role.PLATFORM, None),
    ("13900000001", "杭州市信用办", Role.CITY_STAFF, "330100"),
    ("13900000002", "海口市信用办", Role.CITY_STAFF, "460100"),
]
# Alliance staff (phone, real name, alliance code): they see their members' dashboards.
DEMO_ALLIANCE_STAFF: list[tuple[str, str, str]] = [
    ("13900000011", "长三角信用合作办公室", "yrd"),
    ("13900000012", "十城市联盟秘书处", "ten-cities"),
]
# (phone, real name, home city, ID number, consented and verified at seeding): fictional
# persons of accounts/credit/sandbox_persons.json, one per tier and one listed.
DEMO_RESIDENTS: list[tuple[str, str, str, str, bool]] = [
    ("13700000001", "王小明", "330100", "330106198803120118", True),  # 钱江分 812 优秀
    ("13700000002", "李华", "330100", "330106199107050229", True),  # 655 良好
    ("13700000003", "张伟", "330100", "330105198509200313", True),  # 572 一般
    ("13700000004", "赵强", "330100", "330102197901180421", True),  # 480 较差
    ("13700000005", "钱多多", "330100", "330108198306040531", True),  # 严重失信名单
    ("13700000006", "陈静怡", "460100", "460106199002280158", True),  # 金椰分 788 优秀
    ("13700000007", "林海", "460100", "460105198708110264", True),  # 668 良好
    ("13700000008", "周敏", "310100", "310101198601210195", True),  # 845 优秀
    ("13700000009", "吴新", "310100", "310104199206170203", False),  # left to consent + verify
]


def seed() -> list[tuple[str, str]]:
    load_reference_data()  # seed_demo has run bootstrap already; a direct call needs it
    # the demo logins have accepted the current user agreement (migration 0008 loads it)
    agreement = Agreement.objects.filter(is_current=True).first()
    logins = []
    for phone, name, role, city in DEMO_STAFF:
        if not User.objects.filter(phone=phone).exists():
            if role == Role.PLATFORM:
                User.objects.create_superuser(phone, DEMO_PASSWORD, real_name=name)
            else:
                User.objects.create_user(
                    phone,
                    DEMO_PASSWORD,
                    real_name=name,
                    role=role,
                    staff_city_id=city,
                    is_staff=True,
                )
        logins.append((phone, f"{name} ({role}{' ' + city if city else ''})"))
    for phone, name, alliance in DEMO_ALLIANCE_STAFF:
        if not User.objects.filter(phone=phone).exists():
            # no admin: alliance staff read the dashboards (/dashboard/), change nothing
            User.objects.create_user(
                phone,
                DEMO_PASSWORD,
                real_name=name,
                role=Role.ALLIANCE_STAFF,
                staff_alliance_id=alliance,
            )
        logins.append((phone, f"{name} ({Role.ALLIANCE_STAFF} {alliance})"))
    version = CONSENT_V1["version"]
    for phone, name, city, id_number, verified in DEMO_RESIDENTS:
        user = User.objects.filter(phone=phone).first()
        if user is None:
            user = User(phone=phone, real_name=name, role=User.Role.RESIDENT, home_city_id=city)
            user.set_id_number(id_number)
            user.set_password(DEMO_PASSWORD)
            user.save()
        if agreement is not None:
            AgreementAcceptance.objects.get_or_create(user=user, agreement=agreement)
        if verified and not Standing.objects.filter(resident=user).exists():
            give_consent(resident=user, version=version)
            query_provider(resident_id=user.pk, purpose="demo_seed", requested_by="seed_demo")
        logins.append((phone, f"{name} (resident {city}{_credit_state(user)})"))
    # The honour lists of the demo cities (王小明 is a blood donor on 杭州's list).
    for code in sorted({city for _p, _n, city, _i, _v in DEMO_RESIDENTS}):
        sync_honours(city_code=code)
    return logins


def _credit_state(user: User) -> str:
    """What the login list says of a resident's credit, read from the database (a
    resident who consented while trying the demo is no longer "not yet consented")."""
    if Standing.objects.filter(resident=user).exists():
        return ""
    if Consent.objects.filter(resident=user, withdrawn_at__isnull=True).exists():
        return ", consented, not yet verified"
    return ", not yet consented"
