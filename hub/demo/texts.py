"""Demo citizen messages in the style of a city message board (our own words, not the data set's rows)."""

from __future__ import annotations

import random
from dataclasses import dataclass

PLACES = (
    "桂城街道平洲夏北社区",
    "桂城街道千灯湖片区",
    "桂城街道南约社区",
    "大沥镇黄岐泌冲社区",
    "大沥镇盐步河东村",
    "大沥镇凤池社区",
    "桂城街道叠滘社区",
    "桂城街道东二社区",
    "大沥镇太平社区",
    "桂城街道海八路一带",
)
ESTATES = ("锦绣花园", "碧水湾", "怡翠华庭", "金域豪庭", "海逸雅苑", "万科金色家园", "新城悦府", "南湖山庄")
ROADS = ("海八路", "南海大道", "桂澜路", "灯湖东路", "广佛路", "黄岐大道", "盐步大道", "南桂东路")


@dataclass(frozen=True)
class Topic:
    """A kind of problem: category, request kind, title template, body template, answer template."""

    category: str
    kind: str
    title: str
    body: str
    answer: str


TOPICS: tuple[Topic, ...] = (
    Topic(
        "环境保护",
        "COMPLAINT",
        "{estate}楼下餐馆油烟扰民",
        "{place}{estate}一楼的餐馆每天从下午到深夜油烟直排，油烟味飘进住户家里，夏天根本不敢开窗，"
        "多次找店家沟通无果，请相关部门督促其安装油烟净化设施。",
        "经现场检查，该餐馆未按规定安装油烟净化设施，执法人员已责令其限期整改，并将跟踪复查。",
    ),
    Topic(
        "环境保护",
        "COMPLAINT",
        "{road}工地夜间施工噪音严重",
        "{road}附近的工地连续多日晚上十一点以后仍在施工，打桩机噪音很大，周边居民无法休息，"
        "请问是否办理了夜间施工许可？请尽快处理。",
        "经核查，该工地未取得夜间施工许可，我局已依法立案查处，并要求其晚上十点后停止高噪声作业。",
    ),
    Topic(
        "环境保护",
        "REPORT",
        "举报{place}小作坊污水直排河涌",
        "{place}河涌边有一家小作坊长期将生产废水直接排入河涌，河水发黑发臭，举报请求查处。",
        "接报后执法人员现场采样，确认该作坊存在违法排污行为，已依法查封相关设备并立案处理。",
    ),
    Topic(
        "城乡建设",
        "HELP",
        "{estate}小区电梯频繁故障",
        "{place}{estate}小区3栋电梯近两个月频繁停运，多次困人，物业只是简单维修，老人上下楼非常困难，"
        "请求相关部门督促物业彻底检修或更换。",
        "经协调，物业公司已委托维保单位对电梯进行全面检修，更换了主控板，后续将加强日常巡检。",
    ),
    Topic(
        "城乡建设",
        "COMPLAINT",
        "{estate}物业擅自提高停车费",
        "{estate}物业公司未经业主大会表决，从下月起将月租车位费由200元提高到350元，业主意见很大，"
        "请问物业是否有权单方面涨价？",
        "经调查，该物业公司调价未履行公示和协商程序，已责令其暂停执行新收费标准并依法重新协商。",
    ),
    Topic(
        "城乡建设",
        "HELP",
        "{road}路灯长期不亮",
        "{road}与{road2}交叉口往东一段路灯已经坏了一个多月，晚上漆黑一片，行人和电动车都很危险，请尽快维修。",
        "经现场核查，系线路老化导致，维修人员已更换线路及灯具，路灯已恢复正常照明。",
    ),
    Topic(
        "城乡建设",
        "SUGGESTION",
        "建议在{place}增设公共停车位",
        "{place}周边老旧小区多，车位严重不足，晚上车辆只能停在路边，建议利用附近空地建设公共停车场。",
        "感谢您的建议。我局已将该片区纳入停车设施规划调研范围，将结合用地条件研究增设公共停车位。",
    ),
    Topic(
        "交通运输",
        "SUGGESTION",
        "建议优化{road}公交线路",
        "{place}到地铁站只有一条公交线路，高峰期间隔超过二十分钟，建议增加班次或开通接驳线路。",
        "感谢您的建议，公交公司已对该线路客流进行调查，计划在高峰时段加密班次至10分钟一班。",
    ),
    Topic(
        "交通运输",
        "COMPLAINT",
        "{road}路面破损坑洼多",
        "{road}靠近{place}路段路面破损严重，坑洼很多，下雨天积水，已经有电动车摔倒，请尽快修复。",
        "我局已安排养护单位对该路段进行修补，坑槽已于近日完成修复，后续将纳入大修计划。",
    ),
    Topic(
        "交通运输",
        "CONSULTATION",
        "咨询网约车驾驶员证如何办理",
        "请问在本区申请网约车驾驶员证需要准备哪些材料？在哪里办理？需要多长时间？",
        "您好，申请网约车驾驶员证需提供身份证、驾驶证及无犯罪记录证明等材料，可在区政务服务中心交通窗口办理。",
    ),
    Topic(
        "教育文体",
        "CONSULTATION",
        "咨询孩子入学学位申请",
        "我家孩子今年满六周岁，户籍不在本区，父母在{place}工作并缴纳社保，请问如何申请公办学校学位？",
        "您好，非户籍适龄儿童可通过积分入学方式申请公办学位，具体材料和时间请关注区教育局发布的招生公告。",
    ),
    Topic(
        "教育文体",
        "COMPLAINT",
        "{place}培训机构违规补课收费高",
        "{place}一家培训机构在学校放学后组织学科类补课，收费很高，还要求一次性交一年的费用，请相关部门查处。",
        "经核查，该机构存在违规开展学科类培训行为，已责令其停止相关培训并依法处理预收费问题。",
    ),
    Topic(
        "劳动和社会保障",
        "HELP",
        "{place}工厂拖欠工资三个月",
        "我在{place}一家五金厂上班，工厂已经连续三个月没有发工资，老板一直拖延，请求劳动部门帮助追讨。",
        "我局已约谈企业负责人，企业承诺于本月底前分两期支付拖欠工资，劳动监察大队将跟踪落实。",
    ),
    Topic(
        "劳动和社会保障",
        "CONSULTATION",
        "咨询灵活就业人员养老保险缴费",
        "请问灵活就业人员如何参加养老保险？缴费基数可以自己选吗？可以在网上办理吗？",
        "您好，灵活就业人员可通过粤省事或社保网上服务平台办理参保登记，缴费基数可在规定范围内自主选择。",
    ),
    Topic(
        "商贸旅游",
        "COMPLAINT",
        "{place}超市销售过期食品",
        "在{place}一家超市买的牛奶已经过期三天仍在货架销售，和店家交涉只同意退款，请监管部门检查。",
        "执法人员已对该超市进行检查，发现部分临期过期食品未及时下架，已依法立案调查并责令整改。",
    ),
    Topic(
        "商贸旅游",
        "CONSULTATION",
        "咨询个体工商户开业手续",
        "想在{place}开一家小吃店，请问需要办理哪些证照？食品经营许可证在哪里申请？",
        "您好，开办小吃店需办理营业执照和食品经营许可证，可通过广东政务服务网或区政务服务中心一窗办理。",
    ),
    Topic(
        "卫生计生",
        "HELP",
        "{place}社区卫生服务站药品短缺",
        "{place}社区卫生服务站近期降压药经常缺货，老人每次都要跑到大医院开药，请求协调解决。",
        "我局已协调药品配送企业加大配送频次，该服务站常用慢病药品已恢复正常供应。",
    ),
    Topic(
        "卫生计生",
        "PRAISE",
        "表扬{place}卫生院医护人员",
        "我父亲在{place}卫生院住院期间，医护人员服务热情、细心负责，特此表扬，感谢他们的辛勤付出。",
        "感谢您对基层医护人员的肯定，我们已将表扬转达至相关科室，并将继续提升服务水平。",
    ),
    Topic(
        "其他",
        "OTHER",
        "{place}小区门口流浪犬伤人隐患",
        "{place}{estate}门口最近有几只流浪犬，晚上追咬路人，小孩上学很危险，请相关部门处理。",
        "经属地街道协调，已联系专业机构对流浪犬进行收容，并提醒小区加强巡查。",
    ),
    Topic(
        "城乡建设",
        "REPORT",
        "举报{estate}违章搭建",
        "{place}{estate}顶楼住户在天台违章搭建铁皮房，存在安全隐患，也影响其他业主，请依法查处。",
        "经现场核查，该处确属违法建设，执法部门已下达限期拆除通知书，当事人已自行拆除。",
    ),
)


@dataclass(frozen=True)
class DemoMessage:
    """One generated citizen message and the answer a department would give."""

    topic: Topic
    title: str
    content: str
    answer: str
    region: str


def make_message(rng: random.Random) -> DemoMessage:
    """A message on a random topic at a random place."""
    topic = rng.choice(TOPICS)
    place, estate = rng.choice(PLACES), rng.choice(ESTATES)
    road, road2 = rng.sample(ROADS, 2)
    fields = {"place": place, "estate": estate, "road": road, "road2": road2}
    region = "桂城" if place.startswith("桂城") else "大沥"
    return DemoMessage(
        topic, topic.title.format(**fields), topic.body.format(**fields), topic.answer.format(**fields), region
    )


SURNAMES = "陈李黄梁何张王林吴刘罗冯邓谭麦"


def citizen_name(rng: random.Random) -> str:
    """A citizen as a 12345 operator records them."""
    return rng.choice(SURNAMES) + rng.choice(("女士", "先生"))


def phone_number(rng: random.Random) -> str:
    """A synthetic mobile number."""
    return rng.choice(("138", "139", "135", "136", "137", "150", "186", "189")) + f"{rng.randrange(10**8):08d}"
