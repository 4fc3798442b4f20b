"""The demo district's departments, staff and routing rules (also the test suite's district)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from auth.principal import SYSTEM, Role
from hub.accounts.models import User
from hub.context import ServiceContext
from hub.departments import repository as department_repo
from hub.departments.models import Department
from hub.routing.repository import active_rules
from hub.routing.service import create_rule, load_category_tree

ADMIN = SYSTEM

# code, name, kind, parent code, region
DEPARTMENTS: tuple[tuple[str, str, str, str | None, str | None], ...] = (
    ("NH", "南海区人民政府", "DISTRICT", None, None),
    ("NH-DC", "区统一分办中心", "CENTRE", "NH", None),
    ("NH-ZJ", "区住房城乡建设和水利局", "BUREAU", "NH", None),
    ("NH-HB", "区生态环境局", "BUREAU", "NH", None),
    ("NH-JT", "区交通运输局", "BUREAU", "NH", None),
    ("NH-JY", "区教育局", "BUREAU", "NH", None),
    ("NH-RS", "区人力资源和社会保障局", "BUREAU", "NH", None),
    ("NH-SW", "区商务局", "BUREAU", "NH", None),
    ("NH-WJ", "区卫生健康局", "BUREAU", "NH", None),
    ("NH-CG", "区城市管理和综合执法局", "BUREAU", "NH", None),
    ("NH-GA", "区公安分局", "BUREAU", "NH", None),
    ("NH-SC", "区市场监督管理局", "BUREAU", "NH", None),
    ("NH-GC", "桂城街道办事处", "STREET", "NH", "桂城"),
    ("NH-DL", "大沥镇人民政府", "STREET", "NH", "大沥"),
)

# name, priority, lead, co, category, keywords, region
RULES: tuple[tuple[str, int, str, tuple[str, ...], str | None, tuple[str, ...], str | None], ...] = (
    ("油烟噪声扰民", 10, "NH-HB", ("NH-CG",), None, ("油烟", "噪音", "噪声", "异味", "排污", "污水直排"), None),
    ("占道经营与违建", 12, "NH-CG", (), None, ("占道经营", "违建", "违章搭建", "乱摆卖", "渣土"), None),
    ("物业与房屋", 14, "NH-ZJ", (), None, ("物业", "业委会", "烂尾", "房产证", "电梯", "维修基金"), None),
    ("欠薪社保", 16, "NH-RS", (), None, ("拖欠工资", "欠薪", "社保", "养老保险", "失业金", "劳动合同"), None),
    ("公交道路", 18, "NH-JT", (), None, ("公交", "班车", "红绿灯", "路面破损", "出租车", "网约车"), None),
    ("学校学位", 20, "NH-JY", (), None, ("学位", "入学", "学校", "幼儿园", "补课", "校车"), None),
    ("医疗卫生", 22, "NH-WJ", (), None, ("医院", "医保", "疫苗", "诊所", "卫生院"), None),
    ("食品价格", 24, "NH-SC", ("NH-SW",), None, ("食品安全", "过期", "价格欺诈", "乱收费", "虚假宣传"), None),
    ("桂城属地", 40, "NH-GC", (), None, (), "桂城"),
    ("大沥属地", 41, "NH-DL", (), None, (), "大沥"),
    ("城乡建设", 60, "NH-ZJ", (), "城乡建设", (), None),
    ("环境保护", 61, "NH-HB", (), "环境保护", (), None),
    ("交通运输", 62, "NH-JT", (), "交通运输", (), None),
    ("教育文体", 63, "NH-JY", (), "教育文体", (), None),
    ("劳动和社会保障", 64, "NH-RS", (), "劳动和社会保障", (), None),
    ("商贸旅游", 65, "NH-SW", (), "商贸旅游", (), None),
    ("卫生计生", 66, "NH-WJ", (), "卫生计生", (), None),
)


# the department a category goes to when the centre dispatches by hand; street offices take the rest
LEADS = {
    "城乡建设": "NH-ZJ",
    "环境保护": "NH-HB",
    "交通运输": "NH-JT",
    "教育文体": "NH-JY",
    "劳动和社会保障": "NH-RS",
    "商贸旅游": "NH-SC",
    "卫生计生": "NH-WJ",
}


def lead_for(category: str | None, where: str | None) -> str:
    """The lead department for a category, else the street office of the place (大沥 or 桂城)."""
    if category in LEADS:
        return LEADS[category]
    return "NH-DL" if where and "大沥" in where else "NH-GC"


@dataclass(frozen=True)
class StaffMember:
    """A demo login: subject, display name, role and department code."""

    subject: str
    name: str
    role: Role
    department: str | None


STAFF: tuple[StaffMember, ...] = (
    StaffMember("admin", "系统管理员", Role.ADMIN, None),
    StaffMember("dispatcher", "分办中心值班员", Role.DISPATCHER, "NH-DC"),
    StaffMember("supervisor", "区督查室", Role.SUPERVISOR, None),
    StaffMember("auditor", "区纪委监委派驻组", Role.AUDITOR, None),
    *(
        StaffMember(f"handler-{code.split('-')[1].lower()}", f"{name}承办人", Role.HANDLER, code)
        for code, name, kind, _parent, _region in DEPARTMENTS
        if kind in ("BUREAU", "STREET")
    ),
)


async def seed_district(ctx: ServiceContext) -> dict[str, Department]:
    """Create the departments, category tree, routing rules and staff (idempotent: skips what exists)."""
    session = ctx.session
    existing = {d.code: d for d in await department_repo.all_departments(session)}
    for code, name, kind, parent, region in DEPARTMENTS:
        if code in existing:
            continue
        department = Department(
            code=code,
            name=name,
            kind=kind,
            region=region,
            active=True,
            parent_id=existing[parent].id if parent else None,
        )
        session.add(department)
        await session.flush()
        existing[code] = department
    await load_category_tree(session)
    if not await active_rules(session):
        for name, priority, lead, co, category, keywords, region in RULES:
            await create_rule(
                session,
                actor=ADMIN,
                name=name,
                priority=priority,
                lead_department=lead,
                co_departments=co,
                category=category,
                keywords=keywords,
                region=region,
            )
    known = set((await session.execute(select(User.subject))).scalars())
    for member in STAFF:
        if member.subject not in known:
            department_id = existing[member.department].id if member.department else None
            session.add(
                User(
                    subject=member.subject,
                    name=member.name,
                    roles=[member.role.value],
                    department_id=department_id,
                    active=True,
                )
            )
    await session.flush()
    return existing
