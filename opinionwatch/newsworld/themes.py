"""Topic material for the calendar news world: themes written as templates, in English and Chinese.

A theme has title and sentence templates per language; ``{slots}`` are filled from the theme's own
values and from shared ones (``{n}`` a number, ``{place}``, ``{weekday}``), so every story is different
but stays on its theme. Themes that are one language only leave the other empty.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Theme:
    key: str
    titles: dict[str, tuple[str, ...]]
    sentences: dict[str, tuple[str, ...]]
    slots: dict[str, tuple[str, ...]] = field(default_factory=dict)
    watchlists: tuple[str, ...] = ()
    negative: bool = False


EV = Theme(
    key="ev-batteries",
    titles={
        "en": (
            "{maker} to build {n} GWh battery plant in {place}",
            "Lithium prices slide as {maker} cuts battery costs",
            "{maker} unveils solid-state battery cell for electric cars",
            "Electric car makers race to secure lithium supplies",
            "{maker} battery plant in {place} starts mass production",
        ),
        "zh": (
            "{maker_zh}在{place_zh}投建{n}GWh动力电池工厂",
            "碳酸锂价格持续下跌 {maker_zh}电池成本下降",
            "{maker_zh}发布固态电池 新能源汽车续航提升",
            "新能源车企加紧锁定锂矿资源",
        ),
    },
    sentences={
        "en": (
            "The battery maker said its new cells would raise the range of electric cars by {n} percent.",
            "Lithium carbonate prices have fallen for a {ordinal} straight month as new mines come online.",
            "Electric vehicle makers are signing long-term supply deals for lithium, nickel and cobalt.",
            "Analysts expect battery pack prices to fall below {n} dollars per kilowatt-hour.",
            "{maker} said its factory in {place} would supply cells to three European carmakers.",
            "Sales of electric cars rose {n} percent last month, lifting demand for battery cells.",
            "The gigafactory will employ about {n}00 workers when it reaches full capacity.",
            "Carmakers want cheaper batteries to bring electric models to price parity with petrol cars.",
            "The company said its cathode plant would recycle old battery cells.",
            "Charging speed and battery safety remain the main concerns of electric car buyers.",
        ),
        "zh": (
            "该电池企业表示，新电芯可使电动汽车续航里程提升{n}%。",
            "随着新矿山投产，碳酸锂价格已连续第{n}个月下跌。",
            "多家新能源车企与锂、镍、钴供应商签订长期供货协议。",
            "分析人士预计动力电池包价格将降至每千瓦时{n}美元以下。",
            "该电池工厂满产后将提供约{n}00个就业岗位。",
            "车企希望通过降低电池成本，使电动车价格与燃油车持平。",
            "电池安全和充电速度仍是新能源汽车消费者最关心的问题。",
        ),
    },
    slots={
        "maker": ("Voltcell", "Ampera Energy", "Northstar Batteries", "Lumen Power"),
        "maker_zh": ("伏特电池", "安培能源", "北极星电池", "流明动力"),
    },
)

RATES = Theme(
    key="central-bank",
    titles={
        "en": (
            "Central bank holds interest rates at {n}.{m} percent",
            "Inflation eases to {n}.{m} percent, raising hopes of rate cuts",
            "Central bank governor warns rate cuts are not imminent",
            "Bond yields fall as markets bet on lower interest rates",
        ),
    },
    sentences={
        "en": (
            "The central bank left its benchmark interest rate unchanged at its {weekday} meeting.",
            "Consumer price inflation slowed to {n}.{m} percent last month, the statistics office said.",
            "Policymakers want more evidence that inflation is under control before cutting rates.",
            "Mortgage lenders have already started to trim the rates they offer to borrowers.",
            "Government bond yields fell to their lowest level in {n} months.",
            "Economists expect the first rate cut in the spring if wage growth keeps slowing.",
            "The governor said monetary policy would remain restrictive for some time.",
            "Two members of the rate-setting committee voted for a cut of a quarter point.",
            "The currency weakened after the central bank signalled that rates had peaked.",
            "Core inflation, which excludes food and energy, held at {n}.{m} percent.",
        ),
    },
)

PROPERTY_ZH = Theme(
    key="zh-property",
    titles={
        "zh": (
            "{place_zh}楼市新政出台 首付比例下调至{n}%",
            "{n}月全国新建商品住宅价格环比下降",
            "房地产开发商债务重组取得进展",
            "{place_zh}二手房成交量回升 房贷利率下调",
        ),
    },
    sentences={
        "zh": (
            "国家统计局数据显示，{n}个大中城市新建商品住宅销售价格环比下降。",
            "多地出台楼市支持政策，下调首付比例和房贷利率。",
            "业内人士认为，房地产市场仍处于调整期，库存去化压力较大。",
            "部分房企债务重组方案获得债权人通过，保交楼工作持续推进。",
            "{place_zh}二手房成交量环比增长{n}%，市场情绪有所回暖。",
            "专家建议进一步优化住房公积金政策，支持刚性和改善性住房需求。",
            "{place_zh}取消部分区域限购措施，购房者可申请更高额度的公积金贷款。",
            "开发商推出特价房源促销，部分楼盘降价幅度超过{n}%。",
            "商品房销售面积同比下降{n}%，土地出让收入继续减少。",
        ),
    },
)

PORT_STRIKE = Theme(
    key="port-strike",
    titles={
        "en": (
            "Dockworkers strike shuts container terminals in {place}",
            "Port strike in {place} leaves {n} ships waiting offshore",
            "Shipping lines divert cargo as dockworkers walk out",
            "Union and port operators resume talks to end strike",
        ),
    },
    sentences={
        "en": (
            "Dockworkers walked out over pay and automation, halting container handling at the port.",
            "About {n} container ships were anchored offshore waiting for berths.",
            "Shipping lines said they would divert cargo to neighbouring ports until the strike ends.",
            "The dockworkers union said automated cranes threatened thousands of jobs.",
            "Retailers warned that the strike could delay deliveries of goods for the holiday season.",
            "Port operators offered a pay rise of {n} percent, which the union rejected.",
            "Trucks queued for kilometres outside the terminal gates in {place}.",
            "Freight rates on routes to {place} rose as the backlog of containers grew.",
            "The strike is the longest at the port since the {ordinal} dispute of the decade.",
        ),
    },
)

AI_RULES = Theme(
    key="ai-rules",
    titles={
        "en": (
            "Lawmakers debate new rules for artificial intelligence",
            "AI regulation bill covers copyright and safety testing",
            "Tech firms lobby over draft artificial intelligence law",
        ),
    },
    sentences={
        "en": (
            "The draft artificial intelligence law would cover both the training data of AI models and their "
            "safety testing.",
            "Lawmakers want AI developers to disclose copyrighted works used in training and to test "
            "powerful models for risks.",
            "Tech companies say the AI bill's copyright and safety rules could slow innovation.",
            "Artists and authors want payment when their work trains AI models, while safety experts want "
            "independent audits.",
            "The AI bill's committee hearing on {weekday} heard from authors, researchers and AI developers.",
            "Supporters say one law on AI copyright and AI safety gives developers clear rules.",
            "The artificial intelligence bill would fine developers up to {n} percent of revenue.",
            "Amendments to the AI law on training data and safety tests are due next month.",
        ),
    },
)
AI_COPYRIGHT = Theme(
    key="ai-copyright",
    titles={
        "en": (
            "Authors sue AI developer over use of {n},000 books in training",
            "Court hears copyright lawsuit against AI image generator",
            "Publishers demand licence fees from AI companies for training data",
        ),
    },
    sentences={
        "en": (
            "The authors say the company copied their novels without permission to train its language model.",
            "Lawyers for the artists argued that AI-generated images reproduce copyrighted works.",
            "Publishers want AI firms to pay licence fees for articles and books used as training data.",
            "The judge asked whether training a model on copyrighted text counts as fair use.",
            "The lawsuit seeks damages for {n},000 works and an order to delete the training data.",
            "A group of {n} illustrators joined the class action against the image generator.",
            "The AI company said training on public text was lawful and transformative.",
            "News publishers signed licensing deals with two AI developers for their archives.",
        ),
    },
)
AI_SAFETY = Theme(
    key="ai-safety",
    titles={
        "en": (
            "Regulator sets safety tests for powerful AI models",
            "AI labs must report dangerous model capabilities, watchdog says",
            "New AI safety institute to audit frontier models",
        ),
    },
    sentences={
        "en": (
            "Developers of the most powerful AI models must run red-team safety tests before release.",
            "The safety institute will audit frontier models for risks such as cyberattacks and bioweapons.",
            "AI labs must report incidents and dangerous capabilities within {n} days, the watchdog said.",
            "Safety researchers said evaluations should be independent of the companies building models.",
            "The rules apply to models trained with {n} times the computing power of today's systems.",
            "The watchdog will publish its evaluation of each frontier model before it is released.",
            "AI labs agreed to share model weights with the safety institute for testing.",
            "Critics said voluntary safety commitments by AI developers were not enough.",
        ),
    },
)

WHEAT = Theme(
    key="wheat-exports",
    titles={
        "en": (
            "Drought cuts wheat harvest, exporters weigh grain export ban",
            "Wheat prices jump {n} percent on export ban fears",
            "Grain exporters restrict wheat shipments after poor harvest",
        ),
    },
    sentences={
        "en": (
            "The wheat harvest fell {n} percent after months of drought in the grain belt.",
            "The government is considering a ban on wheat exports to keep bread prices down.",
            "Grain traders said wheat futures rose to their highest level this year.",
            "Millers warned that flour prices would rise if wheat shipments are restricted.",
            "Farmers blamed the dry summer for the smallest grain harvest in a decade.",
            "Wheat exports from the port of {place} dropped {n} percent in the season so far.",
            "Importers of wheat are seeking grain from other suppliers ahead of the export ban.",
            "The grain board cut its estimate of the wheat crop for the {ordinal} time.",
        ),
    },
)
FERTILISER = Theme(
    key="fertiliser-prices",
    titles={
        "en": (
            "Fertiliser prices soar as natural gas costs climb",
            "Farmers cut fertiliser use as nitrogen prices double",
            "Fertiliser plant closures squeeze supply of ammonia",
        ),
    },
    sentences={
        "en": (
            "Nitrogen fertiliser prices have doubled because natural gas, its main input, costs more.",
            "Several ammonia plants have closed, tightening the supply of fertiliser.",
            "Farmers said they would apply less fertiliser this spring to save money.",
            "Potash and phosphate prices also rose {n} percent, according to a trade group.",
            "Fertiliser makers said high gas prices made production unprofitable.",
            "The fertiliser plant in {place} halted ammonia output for the {ordinal} week.",
            "Fertiliser imports rose as domestic nitrogen production fell {n} percent.",
            "Agronomists warned that less fertiliser would mean lower crop yields next season.",
        ),
    },
)
FOOD_CRISIS = Theme(
    key="food-crisis",
    titles={
        "en": (
            "Wheat export ban and fertiliser shortage raise food crisis fears",
            "Food prices climb as wheat curbs meet costly fertiliser",
            "UN warns of food crisis from wheat export bans and fertiliser prices",
            "Fertiliser costs and wheat export bans push food prices higher",
        ),
    },
    sentences={
        "en": (
            "The wheat export ban and soaring fertiliser prices together threaten next year's harvests.",
            "Farmers who cannot afford fertiliser will grow less wheat, deepening the grain shortage.",
            "Food agencies warned that bread and grain prices could rise {n} percent as export curbs spread.",
            "Governments discussed lifting grain export bans and subsidising fertiliser for farmers.",
            "Importing countries face the double blow of scarce wheat and expensive fertiliser.",
            "The food crisis talks in {place} focused on wheat export bans and fertiliser supply.",
            "Aid groups said the grain and fertiliser shortage could leave {n} million people hungry.",
            "Food prices, driven by wheat and fertiliser costs, rose {n} percent this year.",
        ),
    },
)

SOLAR_TARIFF = Theme(
    key="solar-tariff",
    titles={
        "en": (
            "Government imposes {n} percent tariff on imported solar panels",
            "Solar installers warn new panel tariffs will stall projects",
            "Solar panel makers face anti-dumping duties",
        ),
        "zh": (
            "进口光伏组件被加征{n}%关税 光伏企业承压",
            "光伏反倾销调查启动 组件出口受阻",
            "光伏安装商称新关税将拖慢项目进度",
        ),
    },
    sentences={
        "en": (
            "The new tariff of {n} percent applies to solar panels and cells imported from abroad.",
            "Solar installers said the duties would raise project costs and delay rooftop installations.",
            "Panel makers said they would challenge the anti-dumping duties at the trade court.",
            "The tariff aims to protect domestic solar manufacturing, officials said.",
            "Solar developers have paused orders for {n} megawatts of panels while the duties are reviewed.",
            "Imports of solar modules fell {n} percent in the week after the tariff was announced.",
            "Solar industry groups said the panel tariffs would cost thousands of installation jobs.",
        ),
        "zh": (
            "新关税税率为{n}%，适用于进口的光伏组件和电池片。",
            "光伏安装商表示，关税将推高项目成本，拖慢屋顶光伏安装进度。",
            "组件企业表示将就反倾销税提起申诉。",
            "多家光伏企业暂停了约{n}兆瓦组件订单，等待关税复审结果。",
            "关税公布后一周内，光伏组件进口量下降{n}%。",
            "行业协会表示，光伏关税将导致大量安装岗位流失。",
        ),
    },
    watchlists=("crossborder",),
)

NOVAMART_GOOD = Theme(
    key="novamart",
    titles={
        "en": (
            "NovaMart expands same-day delivery to {place}",
            "NovaMart signs {n} new brands for its marketplace",
            "NovaMart launches seller programme for small businesses",
        ),
        "zh": (
            "诺瓦商城在{place_zh}推出当日达服务",
            "诺瓦商城新引入{n}个品牌入驻平台",
        ),
    },
    sentences={
        "en": (
            "NovaMart said shoppers in {place} would receive orders on the same day.",
            "The marketplace added {n} brands and expects sales to grow before the holidays.",
            "NovaMart's new programme gives small sellers lower fees for their first year.",
            "The cross-border platform said customer satisfaction scores rose this quarter.",
            "NovaMart will open a fulfilment centre in {place} to speed up delivery.",
            "Shoppers can now return NovaMart orders for free within {n} days.",
        ),
        "zh": (
            "诺瓦商城表示，{place_zh}的消费者下单当天即可收货。",
            "该跨境电商平台新引入{n}个品牌，预计节前销售额将继续增长。",
            "诺瓦商城推出中小卖家扶持计划，首年佣金下调。",
        ),
    },
    watchlists=("novamart", "crossborder"),
)
NOVAMART_BAD = Theme(
    key="novamart",
    titles={
        "en": (
            "NovaMart faces backlash over hidden seller fees",
            "Shoppers accuse NovaMart of selling counterfeit goods",
            "NovaMart sellers protest sudden fee increases",
        ),
        "zh": (
            "诺瓦商城被指暗中加收卖家费用 引发不满",
            "消费者投诉诺瓦商城售卖假货",
        ),
    },
    sentences={
        "en": (
            "Sellers accused NovaMart of raising hidden fees by {n} percent without warning.",
            "Shoppers complained that items bought on NovaMart turned out to be counterfeit.",
            "Consumer groups called on regulators to investigate NovaMart's treatment of sellers.",
            "NovaMart's customer service was criticised for ignoring complaints.",
            "Some sellers said they would leave NovaMart because of the fees.",
            "A survey found {n} percent of NovaMart shoppers had received a fake product.",
        ),
        "zh": (
            "多名卖家指责诺瓦商城未经通知将隐性费用上调{n}%。",
            "消费者投诉在诺瓦商城购买的商品是假货。",
            "消费者组织呼吁监管部门调查诺瓦商城对卖家的做法。",
        ),
    },
    watchlists=("novamart", "crossborder"),
    negative=True,
)

THEMES = {
    theme.key: theme
    for theme in (
        EV,
        RATES,
        PROPERTY_ZH,
        PORT_STRIKE,
        AI_RULES,
        AI_COPYRIGHT,
        AI_SAFETY,
        WHEAT,
        FERTILISER,
        FOOD_CRISIS,
        SOLAR_TARIFF,
    )
}
SHARED_SLOTS = {
    "place": ("Rotterdam", "Hamburg", "Lyon", "Valencia", "Gdansk", "Antwerp", "Milan", "Leeds"),
    "place_zh": ("上海", "深圳", "广州", "杭州", "成都", "武汉", "南京", "苏州"),
    "weekday": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday"),
    "ordinal": ("second", "third", "fourth", "fifth", "sixth"),
}
