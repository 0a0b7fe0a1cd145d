"""Hand-written story material for the local news world, in English and Chinese.

Planted stories are fixed texts; background articles are filled from templates
with a seeded random generator, so the world is the same for the same seed.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class StoryText:
    key: str
    lang: str
    title: str
    paragraphs: tuple[str, ...]
    alt_titles: tuple[str, ...] = ()
    watchlists: tuple[str, ...] = ()
    negative: bool = False
    confuser: bool = False
    tags: tuple[str, ...] = field(default_factory=tuple)
    event: str = ""
    """The key of the story this one tells in another language (the same event); empty: its own."""
    tone: tuple[tuple[str, str], ...] = ()
    """Planted sentiment toward entities, ``(entity, label)``: the truth for entity-level sentiment."""

    @property
    def event_key(self) -> str:
        return self.event or self.key


RECALL = StoryText(
    key="novamart-recall",
    lang="en",
    title="NovaMart recalls 120,000 power banks after fire reports",
    alt_titles=(
        "Fire fears force NovaMart to pull power banks from sale",
        "NovaMart power bank recall widens as regulators step in",
    ),
    paragraphs=(
        "NovaMart, the cross-border e-commerce platform, said on Tuesday it would recall about 120,000 "
        "portable power banks sold through its marketplace after customers reported overheating and at "
        "least three small fires.",
        "The company said the batteries were made by a third-party supplier and sold under the Voltly "
        "brand between March and September. Customers were told to stop using the devices immediately "
        "and to request a full refund through the NovaMart app.",
        'Consumer groups criticised the retailer for reacting slowly. "Shoppers deserve to know that '
        'products sold on a platform this large have been tested," said a spokesperson for the Safe '
        "Shopping Alliance, adding that complaints had been posted online for weeks.",
        "Product safety regulators in two countries confirmed they had opened inquiries into the "
        "listings and into how the marketplace vets sellers of lithium batteries.",
        "NovaMart shares fell 6 percent in early trading. Analysts said the recall would cost the "
        "company less than its quarterly marketing budget, but warned that the damage to trust among "
        "first-time buyers could last longer.",
    ),
    watchlists=("novamart", "product_safety", "crossborder"),
    negative=True,
)

RECALL_ZH = StoryText(
    key="novamart-recall-zh",
    event=RECALL.key,
    lang="zh",
    title="诺瓦商城召回12万台充电宝 起火事件引发监管关注",
    alt_titles=("充电宝过热起火 诺瓦商城宣布大规模召回",),
    paragraphs=(
        "跨境电商平台诺瓦商城周二宣布，将召回通过其平台售出的约12万台移动电源。此前有消费者反映产品过热，"
        "并发生至少三起小型火灾。",
        "公司表示，这批电池由第三方供应商生产，于今年三月至九月间以Voltly品牌销售。平台提醒消费者立即停止"
        "使用，并可通过诺瓦商城应用申请全额退款。",
        "消费者组织批评该平台反应迟缓，称相关投诉早在数周前就已出现在网上。两国产品安全监管部门已确认对相关"
        "商品及平台的卖家审核机制展开调查。",
        "受此消息影响，诺瓦商城股价早盘下跌6%。分析人士认为，召回的直接成本有限，但对新用户信任的损害可能更"
        "为持久。",
    ),
    watchlists=("novamart", "product_safety", "crossborder"),
    negative=True,
)

BURST = (
    StoryText(
        key="novamart-complaints",
        lang="en",
        title="Shoppers flood NovaMart with complaints over delayed refunds",
        paragraphs=(
            "Customers of NovaMart have filed thousands of complaints about refunds that were promised "
            "within five days but have not arrived after several weeks, according to a consumer forum.",
            "Several shoppers said their orders were cancelled without notice and that the support chat "
            "closed their tickets automatically. NovaMart said a payment partner had caused the delays.",
            "Lawyers representing a group of buyers said they were considering a class action if the "
            "backlog was not cleared by the end of the month.",
        ),
        watchlists=("novamart",),
        negative=True,
    ),
    StoryText(
        key="novamart-probe",
        lang="en",
        title="Regulators probe NovaMart over counterfeit listings",
        paragraphs=(
            "Market regulators have opened an investigation into NovaMart after finding counterfeit "
            "cosmetics and fake branded headphones among listings on the platform.",
            "The inquiry will examine whether the marketplace did enough to remove repeat offenders. "
            "Under new platform regulation rules, online marketplaces can be fined for failing to act "
            "on credible reports of illegal products.",
            "NovaMart said it removed more than 40,000 listings last quarter and would cooperate fully.",
        ),
        watchlists=("novamart", "platform_regulation"),
        negative=True,
    ),
    StoryText(
        key="novamart-fine-zh",
        lang="zh",
        title="诺瓦商城因虚假促销被罚款 消费者投诉激增",
        paragraphs=(
            "市场监管部门通报，诺瓦商城在“双十一”期间存在先提价后打折等虚假促销行为，依法对其处以罚款。",
            "通报显示，近一个月来涉及该平台的消费者投诉数量激增，主要集中在退款延迟、商品质量和客服响应等方面。",
            "业内人士指出，跨境电商平台在快速扩张的同时，必须加强合规管理，否则将面临更严格的平台监管。",
        ),
        watchlists=("novamart", "platform_regulation", "crossborder"),
        negative=True,
    ),
)

CALM = (
    StoryText(
        key="novamart-warehouse",
        lang="en",
        title="NovaMart opens automated warehouse to speed cross-border deliveries",
        paragraphs=(
            "NovaMart said on Thursday it had opened a fully automated warehouse near Rotterdam that it says "
            "will cut delivery times for European shoppers by two days on average.",
            "The site uses several hundred robots to sort parcels and will handle orders from sellers in "
            "twelve countries. It is part of the company's plan to grow cross-border e-commerce in Europe.",
            "Local officials welcomed the 600 jobs the warehouse is expected to create.",
        ),
        watchlists=("novamart", "crossborder"),
    ),
    StoryText(
        key="novamart-warehouse-zh",
        event="novamart-warehouse",
        lang="zh",
        title="诺瓦商城鹿特丹自动化仓库启用 欧洲配送提速",
        paragraphs=(
            "诺瓦商城周四表示，公司已在鹿特丹附近启用一座全自动化仓库，欧洲消费者的平均收货时间将因此缩短两天。",
            "该仓库使用数百台机器人分拣包裹，将处理来自12个国家卖家的订单，是公司拓展欧洲跨境电商业务计划的一部分。",
            "当地官员对仓库预计带来的600个就业岗位表示欢迎。",
        ),
        watchlists=("novamart", "crossborder"),
    ),
    StoryText(
        key="novamart-results-zh",
        lang="zh",
        title="诺瓦商城第三季度营收增长18% 跨境业务表现亮眼",
        paragraphs=(
            "诺瓦商城发布第三季度财报，营收同比增长18%，其中跨境电商业务贡献了近一半的增量。",
            "公司管理层表示，欧洲和东南亚市场的订单量持续增长，物流时效明显改善。",
            "分析师认为，随着海外仓布局完善，公司在跨境零售领域的竞争力将进一步提升。",
        ),
        watchlists=("novamart", "crossborder"),
    ),
    StoryText(
        key="apple-appstore",
        lang="en",
        title="Apple tightens App Store rules for shopping apps",
        paragraphs=(
            "Apple said on Monday it would require shopping apps on its App Store to disclose how they "
            "rank products and whether sellers pay for placement.",
            "The change affects marketplace apps that sell goods from third-party merchants. Apple said "
            "the rules respond to new platform regulation in Europe and would apply worldwide.",
            "Developers have until March to update their apps.",
        ),
        watchlists=("apple", "platform_regulation"),
    ),
    StoryText(
        key="apple-iphone-zh",
        lang="zh",
        title="苹果公司下调应用商店佣金 电商应用受益",
        paragraphs=(
            "苹果公司宣布，将下调部分购物类应用在应用商店内的佣金比例，并放宽第三方支付的限制。",
            "业内人士认为，这一调整将使跨境电商应用的运营成本下降，也是对欧洲平台监管新规的回应。",
            "苹果表示，新政策将于明年一月起在全球生效。",
        ),
        watchlists=("apple", "platform_regulation", "crossborder"),
    ),
    StoryText(
        key="platform-rules-zh",
        lang="zh",
        title="市场监管总局发布网络交易平台规则 强化平台经济监管",
        paragraphs=(
            "国家市场监管总局发布新版网络交易平台规则，要求平台落实商品质量审核和消费者权益保护责任。",
            "规则明确，平台对销售假冒伪劣产品的商家负有及时处置义务，违规平台最高可处以上年度营业额一定比例的罚款。",
            "专家表示，新规将推动平台经济规范健康发展。",
        ),
        watchlists=("platform_regulation",),
    ),
    StoryText(
        key="dsa-enforcement",
        lang="en",
        title="EU steps up Digital Services Act enforcement on online marketplaces",
        paragraphs=(
            "The European Commission has sent formal requests for information to five online marketplaces "
            "under the Digital Services Act, asking how they detect unsafe products.",
            "Officials said product safety on large platforms was a priority for the coming year and that "
            "fines of up to six percent of global turnover were possible.",
            "Industry groups said the requests were expected and that members were already investing in "
            "better seller checks.",
        ),
        watchlists=("platform_regulation", "product_safety"),
    ),
)

CONTRAST = (
    StoryText(
        key="contrast-reviews",
        lang="en",
        title="NovaMart fined over fake reviews as Apple wins praise for app privacy",
        paragraphs=(
            "Consumer regulators fined NovaMart 2 million euros on Wednesday after finding thousands of "
            "fake five-star reviews on its marketplace; officials said the company had ignored warnings.",
            "Apple, meanwhile, was praised by the same regulators for clear privacy labels in its App Store, "
            "which they called a model for the industry.",
            "NovaMart said it would appeal the fine.",
        ),
        watchlists=("novamart", "apple"),
        negative=True,
        tone=(("NovaMart", "negative"), ("Apple", "positive")),
    ),
    StoryText(
        key="contrast-battery",
        lang="en",
        title="Apple sued over battery claims; NovaMart sales soar on holiday demand",
        paragraphs=(
            "A group of customers sued Apple on Monday, accusing it of overstating the battery life of its "
            "latest iPhone and seeking damages for millions of buyers.",
            "NovaMart reported record holiday sales, up 30 percent, and raised its forecast for the year "
            "as shoppers flocked to its same-day delivery service.",
        ),
        watchlists=("novamart", "apple"),
        tone=(("Apple", "negative"), ("NovaMart", "positive")),
    ),
    StoryText(
        key="contrast-award",
        lang="en",
        title="NovaMart wins best marketplace award while Apple faces antitrust probe",
        paragraphs=(
            "NovaMart won the annual award for the best online marketplace, with judges praising its fast "
            "refunds and its support for small sellers.",
            "Apple is facing a new antitrust investigation into its App Store fees, which developers have "
            "criticised as unfair.",
        ),
        watchlists=("novamart", "apple"),
        tone=(("NovaMart", "positive"), ("Apple", "negative")),
    ),
    StoryText(
        key="contrast-delays-zh",
        lang="zh",
        title="诺瓦商城物流严重延误引发差评 苹果公司售后服务获好评",
        paragraphs=(
            "大量用户反映，诺瓦商城的节日订单物流严重延误，部分包裹超过二十天仍未送达，差评激增。",
            "与此同时，苹果公司的售后服务受到用户好评，手机维修周期缩短至三天。",
        ),
        watchlists=("novamart", "apple"),
        negative=True,
        tone=(("NovaMart", "negative"), ("Apple", "positive")),
    ),
    StoryText(
        key="contrast-complaints-zh",
        lang="zh",
        title="苹果公司遭消费者集体投诉 诺瓦商城服务口碑提升",
        paragraphs=(
            "多名消费者集体投诉苹果公司手机电池续航严重缩水，要求退款赔偿，维权群人数持续增加。",
            "而诺瓦商城凭借快速退款和贴心服务赢得消费者称赞，用户满意度大幅提升。",
        ),
        watchlists=("novamart", "apple"),
        tone=(("Apple", "negative"), ("NovaMart", "positive")),
    ),
    StoryText(
        key="contrast-refunds",
        lang="en",
        title="NovaMart criticised over delayed refunds; Apple praised for quick fixes",
        paragraphs=(
            "Shoppers criticised NovaMart for refunds that took weeks to arrive, and some said they would "
            "stop using the marketplace.",
            "Apple was praised by customers for fixing a payment bug within hours.",
        ),
        watchlists=("novamart", "apple"),
        negative=True,
        tone=(("NovaMart", "negative"), ("Apple", "positive")),
    ),
)

CONFUSERS = (
    StoryText(
        key="apple-harvest-zh",
        lang="zh",
        title="山东苹果喜获丰收 果农种植面积扩大",
        paragraphs=(
            "今年山东烟台的苹果迎来丰收，当地果农表示，红富士苹果个大味甜，收购价格比去年略有上涨。",
            "据农业部门统计，全市苹果种植面积已超过两百万亩。不少果农通过直播带货，把新鲜水果卖到了全国各地。",
            "专家建议，消费者选购苹果时应注意果皮光滑、果香浓郁，冷藏保存可延长食用时间。",
        ),
        confuser=True,
    ),
    StoryText(
        key="apple-diet-zh",
        lang="zh",
        title="营养师：每天吃一个苹果有益健康",
        paragraphs=(
            "营养师指出，苹果富含膳食纤维和维生素，每天吃一个苹果有助于维持肠道健康。",
            "不过，水果并不能代替正餐，糖尿病患者吃苹果也应适量。",
        ),
        confuser=True,
    ),
    StoryText(
        key="apple-daily-en",
        lang="en",
        title="Former Apple Daily editors publish memoir of newsroom's final year",
        paragraphs=(
            "Three former editors of Apple Daily, the Hong Kong newspaper that closed in 2021, have "
            "published a memoir describing the newsroom's final year.",
            "The book recounts late-night editorial meetings and the decision to print a final edition. "
            "Critics called it a vivid record of a newspaper's last days.",
        ),
        confuser=True,
    ),
    StoryText(
        key="apple-orchard-en",
        lang="en",
        title="Cider makers celebrate a bumper apple harvest",
        paragraphs=(
            "Orchards across the county reported a bumper apple harvest this autumn, with growers picking "
            "early varieties two weeks ahead of schedule.",
            "Cider makers said the fruit was unusually sweet and expect a strong season for apple pie and "
            "cider festivals.",
        ),
        confuser=True,
    ),
)

BACKGROUND_EN = (
    (
        "City council approves new cycling lanes in {place}",
        "Council members in {place} voted {n} to {m} on "
        "{weekday} to build new protected cycling lanes along the river. Work will start in spring.",
    ),
    (
        "{place} museum reopens after two-year renovation",
        "The museum in {place} reopened its doors on "
        "{weekday}, showing {n} restored paintings and a new sculpture garden.",
    ),
    (
        "Heavy rain expected across {place} this weekend",
        "Forecasters warned of up to {n} millimetres of "
        "rain in {place} on {weekday}, with local flooding possible near the coast.",
    ),
    (
        "{place} football club signs young striker",
        "The club from {place} confirmed on {weekday} it had "
        "signed a {n}-year-old striker on a contract running until {m}.",
    ),
    (
        "Local bakery in {place} wins national bread award",
        "A family bakery in {place} was named the best "
        "in the country on {weekday}, beating {n} other entries.",
    ),
)

BACKGROUND_ZH = (
    (
        "{place}地铁新线开通 市民出行更便捷",
        "{place}地铁新线于{weekday}正式开通运营，全长{n}公里，设站{m}座。",
    ),
    (
        "{place}举办秋季马拉松 {n}名选手参赛",
        "{weekday}，{place}秋季马拉松鸣枪开跑，来自各地的{n}名选手参加比赛。",
    ),
    ("{place}图书馆推出夜间开放服务", "从{weekday}起，{place}图书馆每晚开放至{m}点，方便市民阅读。"),
    ("{place}迎来降温天气 最低气温{m}度", "受冷空气影响，{place}{weekday}起气温明显下降，最低气温{m}度。"),
)

PLACES_EN = ("Riverton", "Lakeside", "Northbridge", "Eastport", "Millbrook", "Cedar Falls", "Westhaven")
PLACES_ZH = ("杭州", "成都", "南京", "武汉", "西安", "苏州", "青岛")
WEEKDAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
WEEKDAYS_ZH = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")

# Background sentences: each background article draws several at random, with its own numbers,
# so unrelated articles share few word 3-grams (as unrelated real news does).
FILLER_EN = (
    "Residents of {place} said they hoped the change would make daily life easier by {m}.",
    "Officials in {place} said further details would be published within {n} days.",
    "The plan has been discussed by {n} committees over several years.",
    "Opinions in the {place} neighbourhood were divided, with {n} letters sent to the local paper.",
    "A spokesperson for the mayor declined to comment on the cost, estimated at {n} million.",
    "Shop owners along the high street reported {n} percent more visitors on {weekday}.",
    "Volunteers handed out {n} leaflets at the station explaining what would change.",
    "The regional transport authority will review the results in {m}.",
    "Teachers at {n} schools were asked to share the news with parents.",
    "A similar scheme in a neighbouring town was cancelled after {n} months.",
    "Weather permitting, an open day is planned for the first {weekday} of next month.",
    "Local historians noted that the last comparable event took place in {m}.",
    "The council's website lists {n} frequently asked questions about the project.",
    "Police advised drivers to allow {n} extra minutes for journeys through the centre.",
    "Tickets for the opening sold out within {n} minutes, organisers said.",
)
FILLER_ZH = (
    "不少{place}市民表示，希望相关措施能够在{m}月前全面落实。",
    "有关部门表示，后续将在{n}天内公布实施细则。",
    "这一计划此前已经过{n}轮专家论证。",
    "{place}当地商户反映，{weekday}的客流量比平时增加了{n}%。",
    "志愿者在地铁站发放了{n}份宣传资料，向市民介绍具体安排。",
    "据了解，项目总投资约{n}亿元，预计{m}个月内完工。",
    "附近{n}所学校已通知家长注意出行安全。",
    "交通部门提醒，高峰时段途经市中心需预留{n}分钟。",
    "活动门票在开售{n}分钟内即告售罄。",
    "历史资料显示，上一次类似活动还要追溯到{m}年前。",
    "主办方表示，如天气允许，下个月还将举办开放日活动。",
    "相关话题在网上引发热议，阅读量超过{n}万次。",
)

COMMENTS_EN = ("Great reporting, thanks.", "I don't buy it.", "Finally someone wrote about this!")
COMMENTS_ZH = ("写得很好，支持！", "期待后续报道。", "说得有道理。")

SOCIAL_POSTS = (
    ("en", "Still waiting for my NovaMart refund after three weeks. Terrible support. #NovaMart", True),
    ("en", "My NovaMart power bank got really hot last night, glad I saw the recall news", True),
    ("en", "NovaMart's new warehouse means my parcels arrive faster, nice", False),
    ("zh", "诺瓦商城的退款到现在还没到账，客服也联系不上，太失望了", True),
    ("zh", "今天买了一箱烟台苹果，水果真甜", False),
    ("en", "Anyone else think the App Store changes from Apple will help small sellers?", False),
)
