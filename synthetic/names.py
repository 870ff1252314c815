"""Chinese personal names: who is called what, and the tables the noise draws its errors from.

The surname weights follow the 2020 census ranking (王 李 张 刘 陈 … cover a third of the population), which is
what makes "common names" common: many people really are called 王伟 or 李娜, and a linker must not merge them.
Given names are one or two characters from pools that differ by sex and by generation (children born after 2010
got 子轩 and 梓涵 rather than 建国 and 秀英). Uyghur and Kazakh names are written "given·father" with a middle dot.
"""

from __future__ import annotations

import random
from itertools import accumulate

# (surname, weight in per mille of the population, roughly the census share)
_SURNAMES: tuple[tuple[str, float], ...] = (
    ("王", 71),
    ("李", 70),
    ("张", 68),
    ("刘", 54),
    ("陈", 46),
    ("杨", 31),
    ("黄", 24),
    ("赵", 22),
    ("吴", 20),
    ("周", 19),
    ("徐", 16),
    ("孙", 15),
    ("马", 15),
    ("朱", 13),
    ("胡", 13),
    ("郭", 12),
    ("何", 12),
    ("林", 11),
    ("高", 11),
    ("罗", 11),
    ("郑", 10),
    ("梁", 9),
    ("谢", 8),
    ("宋", 8),
    ("唐", 8),
    ("许", 7),
    ("韩", 7),
    ("邓", 7),
    ("冯", 7),
    ("曹", 6),
    ("彭", 6),
    ("曾", 6),
    ("肖", 6),
    ("田", 6),
    ("董", 5),
    ("潘", 5),
    ("袁", 5),
    ("蔡", 5),
    ("蒋", 5),
    ("余", 5),
    ("于", 5),
    ("杜", 5),
    ("叶", 5),
    ("程", 4),
    ("魏", 4),
    ("苏", 4),
    ("吕", 4),
    ("丁", 4),
    ("任", 4),
    ("卢", 4),
    ("姚", 4),
    ("沈", 4),
    ("钟", 4),
    ("姜", 4),
    ("崔", 4),
    ("谭", 3),
    ("陆", 3),
    ("范", 3),
    ("汪", 3),
    ("廖", 3),
    ("石", 3),
    ("金", 3),
    ("韦", 3),
    ("贾", 3),
    ("夏", 3),
    ("付", 3),
    ("方", 3),
    ("邹", 2),
    ("熊", 2),
    ("白", 2),
    ("孟", 2),
    ("秦", 2),
    ("邱", 2),
    ("侯", 2),
    ("江", 2),
    ("尹", 2),
    ("薛", 2),
    ("闫", 2),
    ("段", 2),
    ("雷", 2),
    ("龙", 2),
    ("黎", 2),
    ("史", 2),
    ("陶", 2),
    ("贺", 2),
    ("毛", 2),
    ("郝", 2),
    ("顾", 2),
    ("龚", 2),
    ("邵", 2),
    ("万", 2),
    ("覃", 2),
    ("武", 2),
    ("钱", 2),
    ("戴", 2),
    ("严", 2),
    ("莫", 2),
    ("孔", 2),
    ("向", 2),
    ("常", 2),
    ("汤", 2),
    ("康", 2),
    ("易", 2),
    ("乔", 2),
    ("赖", 2),
    ("文", 2),
    ("施", 1),
    ("洪", 1),
    ("牛", 1),
    ("樊", 1),
    ("葛", 1),
    ("邢", 1),
    ("安", 1),
    ("齐", 1),
    ("伍", 1),
    ("庞", 1),
    ("颜", 1),
    ("倪", 1),
    # compound surnames are rare, but a name splitter that assumes one character gets them wrong
    ("欧阳", 0.6),
    ("司马", 0.1),
    ("诸葛", 0.1),
    ("上官", 0.1),
    ("东方", 0.1),
    ("皇甫", 0.1),
    ("夏侯", 0.1),
)

# Given-name characters, the most frequent first (the pools are sampled with falling weights).
_MALE = "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆帅旭宁龙林阳洋峰建国志新海文亮东兵博晨昊天成永春"
_FEMALE = "芳娜敏静丽艳娟霞秀玲桂英红梅琳燕萍雪倩婷颖琴云莉慧佳欣怡玉兰凤洁璐瑶晶丹月珊珍蓉妍琦萱薇"
_NEUTRAL = "晓文思宏嘉一子永安清"
_MODERN_MALE = "轩睿泽宇浩辰铭昊航诺皓俊熙博乐承"
_MODERN_FEMALE = "涵怡萱琪语馨汐诺悦彤晴依可欣"
# Children born since 2010 mostly got one of a few fashionable two-character names.
_MODERN_PAIRS = {
    "1": ("子轩", "浩然", "宇泽", "梓航", "一诺", "皓轩", "俊熙", "博文", "嘉乐", "沐宸", "睿泽", "子墨", "宇航", "铭轩"),
    "2": ("梓涵", "欣怡", "雨萱", "思琪", "诗涵", "一诺", "可馨", "若汐", "紫涵", "佳怡", "语桐", "芷晴", "梦瑶", "雨彤"),
}

# Names shared by thousands: used to build clusters of namesakes born in the same year in the same city.
COMMON_NAMES: tuple[tuple[str, str, str], ...] = (
    ("王", "伟", "1"),
    ("李", "娜", "2"),
    ("张", "伟", "1"),
    ("王", "芳", "2"),
    ("李", "伟", "1"),
    ("张", "敏", "2"),
    ("王", "静", "2"),
    ("刘", "伟", "1"),
    ("李", "静", "2"),
    ("张", "丽", "2"),
    ("王", "磊", "1"),
    ("李", "强", "1"),
    ("刘", "洋", "1"),
    ("张", "勇", "1"),
    ("王", "勇", "1"),
)

# Uyghur / Kazakh first names; a full name is first + "·" + father's first name.
_DOT_MALE = ("买买提", "艾尼瓦尔", "阿不都热合曼", "吐尔洪", "艾力", "努尔买买提", "亚森", "肉孜", "阿里木", "热合曼")
_DOT_FEMALE = ("阿依古丽", "古丽娜尔", "热依拉", "迪丽努尔", "帕提古丽", "阿米娜", "再努尔", "麦合甫再")

# Homophones seen in registrations: a clerk types the sound, the IME offers the neighbour (张伟 → 张玮).
HOMOPHONES: dict[str, str] = {}
for _a, _b in (
    ("伟", "玮"),
    ("丽", "莉"),
    ("静", "婧"),
    ("敏", "闵"),
    ("芳", "方"),
    ("娟", "涓"),
    ("婷", "亭"),
    ("杰", "洁"),
    ("军", "君"),
    ("勇", "永"),
    ("强", "蔷"),
    ("涛", "韬"),
    ("斌", "彬"),
    ("明", "铭"),
    ("刚", "钢"),
    ("平", "萍"),
    ("辉", "晖"),
    ("鹏", "朋"),
    ("华", "桦"),
    ("飞", "菲"),
    ("鑫", "欣"),
    ("宇", "雨"),
    ("浩", "昊"),
    ("凯", "恺"),
    ("俊", "骏"),
    ("帆", "凡"),
    ("旭", "煦"),
    ("宁", "凝"),
    ("林", "琳"),
    ("阳", "洋"),
    ("峰", "锋"),
    ("建", "健"),
    ("志", "智"),
    ("文", "雯"),
    ("东", "冬"),
    ("兵", "冰"),
    ("晨", "辰"),
    ("玲", "铃"),
    ("英", "瑛"),
    ("红", "虹"),
    ("梅", "玫"),
    ("燕", "艳"),
    ("倩", "茜"),
    ("颖", "莹"),
    ("琴", "芹"),
    ("云", "芸"),
    ("慧", "惠"),
    ("佳", "嘉"),
    ("怡", "仪"),
    ("玉", "钰"),
    ("兰", "岚"),
    ("瑶", "遥"),
    ("晶", "菁"),
    ("珊", "姗"),
    ("磊", "蕾"),
    ("春", "纯"),
    ("霞", "侠"),
    ("秀", "绣"),
    ("涵", "含"),
    ("轩", "萱"),
):
    HOMOPHONES.setdefault(_a, _b)
    HOMOPHONES.setdefault(_b, _a)

# Traditional forms, as typed by clerks from Hong Kong / Taiwan documents or old hand-written files.
TRADITIONAL: dict[str, str] = dict(
    zip(
        "陈张刘杨黄赵吴郑孙马罗谢许韩邓冯叶蒋苏吕卢钟谭陆贾韦邹闫龙贺顾龚万钱严汤萧伟华丽军红东兰凤云飞龙涛刚鹏辉"
        "杰强艳宁国学庆长荣贤凯帅晓鸿娟丰义纪齐颖婷丽乔汪",
        "陳張劉楊黃趙吳鄭孫馬羅謝許韓鄧馮葉蔣蘇呂盧鍾譚陸賈韋鄒閆龍賀顧龔萬錢嚴湯蕭偉華麗軍紅東蘭鳳雲飛龍濤剛鵬輝"
        "傑強艷寧國學慶長榮賢凱帥曉鴻娟豐義紀齊穎婷麗喬汪",
        strict=True,
    )
)
TRADITIONAL = {simple: trad for simple, trad in TRADITIONAL.items() if simple != trad}


class NamePicker:
    """Draws names with realistic frequencies. Cumulative weights are built once: this runs 10^6 times."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._surnames = [s for s, _ in _SURNAMES]
        self._surname_cum = list(accumulate(w for _, w in _SURNAMES))
        self._pools = {key: (list(chars), _falling_weights(len(chars))) for key, chars in _POOLS.items()}

    def surname(self) -> str:
        return self._rng.choices(self._surnames, cum_weights=self._surname_cum)[0]

    def given(self, sex: str, birth_year: int) -> str:
        """One character (a quarter of people) or two, from the pool of the person's sex and generation."""
        modern = birth_year >= 2010
        key = ("modern_" if modern else "") + ("male" if sex == "1" else "female")
        length = 1 if self._rng.random() < (0.12 if modern else 0.28) else 2
        if modern and length == 2 and self._rng.random() < 0.6:
            return self._rng.choice(_MODERN_PAIRS[sex])
        chars = [self._char(key) for _ in range(length)]
        if length == 2 and self._rng.random() < 0.08:
            chars[0] = self._char("neutral")  # 晓燕, 思远: a generation character shared by both sexes
        if length == 2 and chars[0] == chars[1] and not modern:
            chars[1] = self._char(key)  # 伟伟 is a nickname, not a registered name
        return "".join(chars)

    def dotted(self, sex: str) -> str:
        """A Uyghur-style full name 'given·father'."""
        first = self._rng.choice(_DOT_MALE if sex == "1" else _DOT_FEMALE)
        return first + "·" + self._rng.choice(_DOT_MALE)

    def dotted_child(self, sex: str, parent_name: str) -> str:
        """A child's dotted name carries the parent's first name after the dot."""
        first = self._rng.choice(_DOT_MALE if sex == "1" else _DOT_FEMALE)
        return first + "·" + parent_name.split("·")[0]

    def _char(self, key: str) -> str:
        chars, cum = self._pools[key]
        return self._rng.choices(chars, cum_weights=cum)[0]


_POOLS = {
    "male": _MALE,
    "female": _FEMALE,
    "neutral": _NEUTRAL,
    "modern_male": _MODERN_MALE,
    "modern_female": _MODERN_FEMALE,
}


def _falling_weights(n: int) -> list[float]:
    """Cumulative Zipf-like weights: the first characters of a pool are far more frequent than the last."""
    return list(accumulate(1.0 / (rank + 2) for rank in range(n)))
