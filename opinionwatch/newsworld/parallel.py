"""A parallel set from the news world: the same story written in English and in Chinese.

Each pair fills one bilingual template with the same facts (city, weekday, figures) in both
languages. Pairs that share a template differ only in their city and figures, so finding the right
partner across languages takes more than recognising the topic. Used by ``benchmarks/multilingual.py``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

PLACES = (
    ("Hangzhou", "杭州"),
    ("Chengdu", "成都"),
    ("Nanjing", "南京"),
    ("Wuhan", "武汉"),
    ("Xi'an", "西安"),
    ("Suzhou", "苏州"),
    ("Qingdao", "青岛"),
    ("Shenzhen", "深圳"),
    ("Tianjin", "天津"),
    ("Chongqing", "重庆"),
    ("Xiamen", "厦门"),
    ("Harbin", "哈尔滨"),
)
WEEKDAYS = (
    ("Monday", "周一"),
    ("Tuesday", "周二"),
    ("Wednesday", "周三"),
    ("Thursday", "周四"),
    ("Friday", "周五"),
    ("Saturday", "周六"),
    ("Sunday", "周日"),
)
# (English title, English body, Chinese title, Chinese body); {place} {weekday} {n} {m} are filled alike.
TEMPLATES = (
    (
        "{place} opens new metro line with {m} stations",
        "A new metro line opened in {place} on {weekday}. The {n}-kilometre line has {m} stations and "
        "is expected to carry commuters from the eastern suburbs to the city centre in half an hour.",
        "{place}地铁新线开通 设站{m}座",
        "{place}地铁新线于{weekday}开通运营。新线全长{n}公里，设站{m}座，预计东部郊区居民半小时即可到达市中心。",
    ),
    (
        "Electric carmaker to build battery plant in {place}",
        "An electric carmaker said on {weekday} it would invest {n} billion yuan in a battery plant in "
        "{place}, creating about {m} thousand jobs when production starts.",
        "电动汽车企业将在{place}建设电池工厂",
        "一家电动汽车企业{weekday}宣布，将投资{n}0亿元在{place}建设电池工厂，投产后将创造约{m}千个就业岗位。",
    ),
    (
        "Heavy rain floods streets in {place}",
        "Torrential rain flooded streets in {place} on {weekday}, with {n} millimetres falling in six "
        "hours. Authorities moved {m} hundred residents to shelters and suspended some bus routes.",
        "{place}遭遇强降雨 多条街道被淹",
        "{weekday}，{place}遭遇强降雨，六小时降雨量达{n}毫米，多条街道被淹。当地转移安置居民{m}百人，部分公交线路暂停运营。",
    ),
    (
        "Food delivery platform fined over hidden fees in {place}",
        "Market regulators in {place} fined a food delivery platform {n} million yuan on {weekday} for "
        "charging customers hidden service fees. The platform said it would refund {m} thousand orders.",
        "{place}一外卖平台因隐藏收费被罚款",
        "{place}市场监管部门{weekday}对一家外卖平台处以{n}百万元罚款，原因是向消费者收取隐藏服务费。平台表示将为{m}千笔订单退款。",
    ),
    (
        "Hospital in {place} opens artificial intelligence clinic",
        "A public hospital in {place} opened a clinic on {weekday} where an artificial intelligence "
        "system helps doctors read scans. The hospital said the system had checked {n} thousand images "
        "in trials.",
        "{place}一医院开设人工智能门诊",
        "{place}一家公立医院{weekday}开设人工智能门诊，由人工智能系统协助医生阅片。医院表示，试运行期间系统已检查{n}千张影像。",
    ),
    (
        "Bank in {place} cuts mortgage rates for first-time buyers",
        "A regional bank in {place} said on {weekday} it would cut mortgage rates for first-time buyers "
        "by {m} basis points, the latest lender to do so as home sales slow.",
        "{place}一银行下调首套房贷利率",
        "{place}一家区域性银行{weekday}表示，将把首套住房贷款利率下调{m}个基点。随着房屋销售放缓，多家银行已采取类似措施。",
    ),
    (
        "Smartphone maker recalls {n} thousand phones over battery faults",
        "A smartphone maker based in {place} recalled {n} thousand phones on {weekday} after users "
        "reported batteries swelling. Customers can exchange the phones at {m} service centres.",
        "{place}一手机厂商召回{n}千部手机",
        "总部位于{place}的一家手机厂商{weekday}宣布召回{n}千部手机，此前有用户反映电池鼓包。消费者可在{m}个服务中心更换手机。",
    ),
    (
        "Port of {place} handles record container volume",
        "The port of {place} handled a record {n} million containers in the first ten months, officials "
        "said on {weekday}, helped by a {m} percent rise in exports.",
        "{place}港集装箱吞吐量创新高",
        "官方{weekday}表示，{place}港前十个月集装箱吞吐量达到创纪录的{n}百万标箱，主要得益于出口增长{m}%。",
    ),
    (
        "Air pollution alert issued in {place}",
        "Authorities in {place} issued an air pollution alert on {weekday} after the air quality index "
        "reached {n}. Schools cancelled outdoor classes and {m} factories were ordered to cut output.",
        "{place}发布空气污染预警",
        "{place}有关部门{weekday}发布空气污染预警，空气质量指数达到{n}。学校取消户外课程，{m}家工厂被要求减产。",
    ),
    (
        "Tech firm in {place} lays off {m} hundred workers",
        "A technology company in {place} told {m} hundred employees on {weekday} that their jobs would "
        "be cut, blaming falling advertising revenue. Shares fell {n} percent.",
        "{place}一科技公司裁员{m}百人",
        "{place}一家科技公司{weekday}通知{m}百名员工将被裁员，公司将原因归于广告收入下滑。其股价下跌{n}%。",
    ),
)


@dataclass(frozen=True)
class ParallelPair:
    id: str
    en_title: str
    en_text: str
    zh_title: str
    zh_text: str


def parallel_set(seed: int = 11, pairs: int = 120) -> list[ParallelPair]:
    """``pairs`` stories, each in both languages; at most one story per template and city."""
    combos = [(t, p) for t in range(len(TEMPLATES)) for p in range(len(PLACES))]
    if pairs > len(combos):
        raise ValueError(f"at most {len(combos)} pairs (templates × cities)")
    rng = random.Random(seed)
    rng.shuffle(combos)
    out = []
    for number, (template, place) in enumerate(combos[:pairs]):
        en_title, en_body, zh_title, zh_body = TEMPLATES[template]
        weekday = rng.choice(WEEKDAYS)
        figures = {"n": rng.randint(3, 95), "m": rng.randint(2, 60)}
        en = {"place": PLACES[place][0], "weekday": weekday[0], **figures}
        zh = {"place": PLACES[place][1], "weekday": weekday[1], **figures}
        out.append(
            ParallelPair(
                f"pair-{number:04d}",
                en_title.format(**en),
                en_body.format(**en),
                zh_title.format(**zh),
                zh_body.format(**zh),
            )
        )
    return out
