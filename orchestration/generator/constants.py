"""Fixed vocabularies and rates of the demo world (one place, so the simulation and the tests agree)."""

from __future__ import annotations

SECONDS_PER_DAY = 86_400
BUSINESS_UTC_OFFSET_SECONDS = 8 * 3600  # Asia/Shanghai, no daylight saving since 1991

CUSTOMERS_PER_SCALE = 100_000
PROSPECT_SHARE = 0.15  # created but never intended to buy
ENTERPRISE_SHARE = 0.12
GROWTH_LAST_TO_FIRST = 3.0  # monthly acquisitions in the last month vs the first

CHANNELS: tuple[str, ...] = ("online_ads", "search", "social", "referral", "store", "partner")
CHANNEL_WEIGHTS: tuple[float, ...] = (0.25, 0.20, 0.20, 0.12, 0.13, 0.10)
# relative effect of the acquisition channel on the latent dropout probability (referred customers stay)
CHANNEL_DROPOUT_FACTOR: tuple[float, ...] = (1.15, 1.0, 1.1, 0.7, 0.9, 1.0)
# acquisition cost per acquired customer (CNY); referral has no spend rows at all
CHANNEL_COST_PER_ACQUISITION: dict[str, float] = {
    "online_ads": 120.0, "search": 90.0, "social": 70.0, "store": 50.0, "partner": 150.0,
}
CHANNEL_MONTHLY_BASE_SPEND: dict[str, float] = {
    "online_ads": 3000.0, "search": 2000.0, "social": 1500.0, "store": 800.0, "partner": 2500.0,
}

CITIES: tuple[str, ...] = (
    "Beijing", "Shanghai", "Guangzhou", "Shenzhen", "Hangzhou", "Chengdu", "Wuhan", "Nanjing", "Xian",
)
CITY_WEIGHTS: tuple[float, ...] = (0.16, 0.16, 0.12, 0.12, 0.1, 0.1, 0.08, 0.08, 0.08)

CATEGORIES: tuple[str, ...] = ("electronics", "home", "apparel", "beauty", "grocery")
CATEGORY_WEIGHTS: tuple[float, ...] = (0.18, 0.2, 0.25, 0.17, 0.2)
CATEGORY_PRICE_FACTOR: tuple[float, ...] = (2.5, 1.3, 1.0, 0.8, 0.45)
SALES_CHANNELS: tuple[str, ...] = ("online", "app", "store", "phone")
SALES_CHANNEL_WEIGHTS: tuple[float, ...] = (0.4, 0.35, 0.18, 0.07)

SURNAMES: tuple[str, ...] = (
    "Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou", "Xu", "Sun", "Ma", "Zhu",
    "Hu", "Guo", "He", "Lin", "Gao", "Luo", "Zheng", "Liang", "Xie", "Song", "Tang", "Han", "Feng", "Deng",
)
GIVEN_NAMES: tuple[str, ...] = (
    "Wei", "Fang", "Na", "Min", "Jing", "Li", "Qiang", "Lei", "Jun", "Yang", "Yong", "Yan", "Jie", "Tao",
    "Ming", "Chao", "Xiuying", "Xia", "Ping", "Gang", "Hui", "Yu", "Hao", "Xin", "Lina", "Jianhua",
    "Zihan", "Yuxuan", "Haoran", "Zhiwei", "Meiling", "Xiaoyu",
)
EMAIL_DOMAINS: tuple[str, ...] = ("qq.com", "163.com", "126.com", "gmail.com", "sina.com", "outlook.com")

ORDER_CANCEL_SHARE = 0.04
ORDER_RETURN_SHARE = 0.05
DISCOUNT_SHARE = 0.3
COST_MISSING_SHARE = 0.08

COMPLAINT_RATE = 0.03  # complaints per purchase
SEVERITIES: tuple[str, ...] = ("low", "medium", "high", "critical")
SEVERITY_WEIGHTS: tuple[float, ...] = (0.4, 0.35, 0.18, 0.07)
# probability that a complaint of this severity ends the relationship right after that purchase
SEVERITY_DROPOUT_PROBABILITY: tuple[float, ...] = (0.08, 0.18, 0.35, 0.55)
COMPLAINT_CATEGORIES: tuple[str, ...] = ("delivery", "product_quality", "billing", "service_attitude", "refund")

CALL_OUTCOMES: tuple[str, ...] = ("answered", "no_answer", "voicemail")
UNKNOWN_CALLER_SHARE = 0.01

ENUM_NOISE_SHARE = 0.03  # enum values with odd case/whitespace that are valid after lower+trim
OFFSET_TIMESTAMP_SHARE = 0.05  # '+08:00'
UTC_TIMESTAMP_SHARE = 0.05  # 'Z', same instant
T_SEPARATOR_SHARE = 0.15  # 'YYYY-MM-DDTHH:MM:SS' without offset
