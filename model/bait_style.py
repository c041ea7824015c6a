"""Bait-style signals of the label policy, as features that carry across topics.

``../shared/datasets/POLICY.md`` defines clickbait partly by *style*, whatever
the topic: withheld referents (这种/这件事/它), shock and surprise words,
listicles, questions aimed at the reader, 网友 reactions, get-rich and
advertorial bait, scare-style health advice, tabloid casts (男子/女子/婆婆 ...).
A word or character n-gram learns such a cue only where the policy-labelled
data happens to contain it next to the topic it appears with; a named group
of phrases shares one weight across every phrase and topic of the group, so a
cue learnt on game headlines also counts on finance ones.

:class:`BaitFeatures` has one column per phrase group (the number of distinct
phrases of the group in the headline, capped at 2 and scaled to [0, 1]) and
four position signals: ends with a question (``?``, 吗, 呢), ends with ``!``,
a numeral followed by a classifier (listicles: 3种, 10大, 5个), and a vague
subject at the start (他/她/它/这/那/有人 ...). Phrases are matched on
lower-cased normalised text (:mod:`model.normalize`: simplified script,
half-width punctuation); :func:`bait_row` and :func:`bait_rows` take it
lower-cased.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin

from model.textarrays import CodePoints, PhraseSet, code_points

# Group name -> phrases. Each group is one cue of POLICY.md's clickbait
# definition (or, for the last ones, of plainly stated news), worded as
# headlines word it; a phrase may sit in more than one group.
PHRASE_GROUPS: dict[str, tuple[str, ...]] = {
    "shock": ("震惊", "惊呆", "惊人", "吓", "懵", "傻眼", "炸锅", "炸了", "沸腾", "疯了",
              "崩溃", "泪目", "看哭", "哭了", "笑喷", "笑翻", "心疼", "扎心", "不淡定", "怒了"),
    "surprise": ("竟然", "居然", "竟", "万万没想到", "没想到", "想不到", "不敢相信", "难以置信",
                 "原来", "才知道"),
    "reveal": ("真相", "背后", "曝光", "揭秘", "内幕", "秘密", "秘籍", "秘诀", "套路", "猫腻",
               "玄机", "真面目"),
    "referent": ("这种", "这个", "这些", "这件", "这位", "这几", "这款", "这招", "这样", "这般",
                 "这么", "这里", "这档", "这一", "这次", "这对", "那些", "那个", "那种", "那位",
                 "它"),
    "fate": ("如今", "结局", "下场", "后来", "结果", "现状", "过成", "变成这样", "成这样"),
    "listicle": ("盘点", "十大", "必看", "必追", "不能错过", "一大", "二大", "三大", "四大",
                 "五大", "六大", "七大", "八大", "九大"),
    "picture_count": ("组图", "图集", "多图", "高清图"),
    "second_person": ("你", "您"),
    "question_words": ("为什么", "为何", "怎么", "怎样", "如何", "什么", "哪些", "哪个", "多少",
                       "有多", "是否", "吗", "呢", "难道", "凭什么"),
    "asks_the_reader": ("怎么看", "如何看待", "你觉得", "你会", "你敢", "你知道", "你认为",
                        "你还", "大家"),
    "ellipsis": ("...", "…"),
    "netizens": ("网友", "网民", "评论", "热议", "刷屏", "走红", "爆红", "火了", "疯传", "热搜",
                 "圈粉"),
    "tabloid_cast": ("男子", "女子", "小伙", "姑娘", "大妈", "大爷", "老汉", "老太", "妻子",
                     "丈夫", "老公", "老婆", "婆婆", "媳妇", "儿媳", "闺蜜", "前任", "小三",
                     "前男友", "前女友", "美女", "少妇", "女孩", "男孩", "宝妈", "妹子", "小哥",
                     "孕妇", "少女", "夫妻", "情侣", "老人"),
    "romance": ("出轨", "离婚", "相亲", "恋爱", "恋情", "婚姻", "结婚", "婚礼", "分手", "约会",
                "求婚", "怀孕", "绯闻", "热恋", "同框", "秀恩爱", "撒糖", "官宣", "暧昧",
                "婆媳", "彩礼", "渣男", "前妻", "前夫"),
    "showbiz": ("明星", "女星", "男星", "艺人", "网红", "爱豆", "粉丝", "八卦", "综艺",
                "娱乐圈", "演员", "歌手", "主持人", "影后", "影帝", "导演", "剧组", "电视剧",
                "电影", "票房", "新剧", "主演", "饰演", "选秀", "偶像", "CP", "cp"),
    "looks": ("颜值", "身材", "素颜", "女神", "男神", "帅哥", "少女感", "减龄", "逆龄", "冻龄",
              "美貌", "性感", "红毯", "造型", "穿搭", "街拍", "时装", "秀场", "走秀", "高定",
              "大牌", "美妆", "彩妆", "护肤", "发型", "写真", "自拍", "美腿", "长腿", "翘臀",
              "蜂腰", "气质", "惊艳", "显瘦", "时装周", "春夏系列", "秋冬系列", "早春系列",
              "度假系列", "大秀", "联名", "潮牌", "奢侈品", "香水", "口红", "面膜", "香奈儿",
              "迪奥", "古驰", "普拉达", "爱马仕", "路易威登", "范思哲", "巴黎世家", "纪梵希",
              "chanel", "dior", "gucci", "prada", "hermes", "louis vuitton", "versace",
              "fendi", "balenciaga", "givenchy", "valentino", "burberry", "celine", "ysl",
              "armani", "miu miu", "loewe", "bottega", "ugg", "supreme"),
    "star_moves": ("曝", "晒", "现身", "亮相", "牵手", "合体", "撞衫", "近照", "旧照", "罕见"),
    "money_bait": ("赚钱", "月入", "年入", "日入", "副业", "致富", "创业", "加盟", "招商",
                   "暴富", "财富", "发财", "变现", "躺赚", "翻倍", "一夜"),
    "self_help": ("助你", "教你", "帮你", "让你", "学会", "技巧", "方法", "攻略", "思维", "课",
                  "干货", "收藏", "必备", "必知", "指南", "诀窍", "窍门", "妙招", "绝招"),
    "advert": ("代理", "诚招", "限时", "特惠", "优惠", "折扣", "免费", "福利", "领取", "报名",
               "课程", "训练营", "体验课", "公开课", "学员", "名师"),
    "reader_push": ("快看", "快来", "赶快", "赶紧", "速看", "必读", "转发", "告诉", "提醒",
                    "注意了", "注意啦", "别错过", "不看后悔", "看完", "看了", "点开", "千万",
                    "别再", "不要再", "务必", "一定要"),
    "health_scare": ("致癌", "危害", "伤身", "寿命", "长寿", "养生", "医生提醒", "专家提醒",
                     "不能吃", "少吃", "多吃", "减肥", "瘦身", "排毒", "养颜", "保健"),
    "emotion": ("心酸", "感动", "暖心", "暖哭", "虐心", "绝望", "愤怒", "气炸", "笑死", "笑哭",
                "尴尬", "无语", "服了", "醉了", "佩服", "羡慕", "眼红", "嫉妒"),
    "slang": ("666", "厉害了", "牛逼", "牛B", "碾压", "爆表", "炸裂", "开挂", "上天", "逆袭",
              "霸屏", "霸气", "硬核", "吊打", "躺枪", "打脸", "怼", "互撕", "掐架", "翻车",
              "塌房", "实锤", "石锤"),
    "superlative": ("史上", "全网", "全球最", "世界最", "中国最", "最美", "最大", "最强", "最牛",
                    "最惨", "最贵", "最帅", "最火", "最丑", "最险", "最难", "第一", "逆天",
                    "神器", "神操作", "天价", "举世", "震撼", "完美", "顶级", "神级", "疯狂",
                    "无敌"),
    "story": ("故事", "传说", "民间", "鬼", "灵异", "诡异", "离奇", "怪事", "未解之谜", "之谜",
              "神秘", "穿越", "前世", "风水", "算命", "星座", "运势", "生肖", "外星", "盗墓",
              "古墓", "宝藏"),
    "palace_history": ("皇帝", "太监", "妃子", "后宫", "宫女", "皇后", "格格", "慈禧", "乾隆",
                       "雍正", "康熙", "野史", "秘闻", "宫廷", "古代", "历史上"),
    "games": ("王者荣耀", "吃鸡", "绝地求生", "英雄联盟", "LOL", "lol", "DNF", "dnf",
              "刺激战场", "第五人格", "皮肤", "段位", "上分", "开黑", "手游"),
    # Plain news: what substantive headlines state rather than withhold.
    "dated": ("月", "日", "今日", "昨日", "今天", "昨天"),
    "officials": ("宣布", "发布", "召开", "会议", "部门", "政府", "国务院", "央行", "证监会",
                  "发改委", "公告", "回应", "通报", "表示", "据", "报道", "记者", "通知",
                  "规定", "政策", "数据", "同比", "增长", "下降", "亿元", "万元", "%"),
    "markets": ("股", "市场", "A股", "大盘", "指数", "基金", "涨停", "跌停", "板块", "利好",
                "行情", "券商", "投资", "收益", "净利", "营收", "债"),
    "quote_marks": ('"', "“", "”", "「", "」"),
    "brackets": ("【", "】", "[", "]", "|", "丨"),
}
POSITION_SIGNALS = ("ends_question", "ends_exclamation", "listicle_number", "vague_start")
_QUESTION_ENDS = "?吗呢"
_CLASSIFIERS = "种个件大招部款条句类张幅位道组"
_VAGUE_STARTS = ("他", "她", "它", "这", "那", "此人", "有人", "一个", "一位", "一名")
_MAX_COUNT = 2


@functools.lru_cache(maxsize=1)
def _phrase_table():
    """(a PhraseSet of every distinct phrase, the phrase x group incidence matrix,
    sparse CSR float64 of shape (n_phrases, n_groups))."""
    index: dict[str, int] = {}
    rows, columns = [], []
    for group, group_phrases in enumerate(PHRASE_GROUPS.values()):
        for phrase in dict.fromkeys(p.lower() for p in group_phrases):
            rows.append(index.setdefault(phrase, len(index)))
            columns.append(group)
    incidence = sp.csr_matrix((np.ones(len(rows)), (rows, columns)),
                              shape=(len(index), len(PHRASE_GROUPS)))
    return PhraseSet(list(index)), incidence


def _is_digit(char: str) -> bool:
    return char.isdecimal() and char.isascii()


@functools.lru_cache(maxsize=1)
def _lowered_groups() -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(dict.fromkeys(p.lower() for p in group))
                 for group in PHRASE_GROUPS.values())


def bait_row(text: str) -> list[float]:
    """The bait-style features of one lower-cased normalised headline (the
    reference definition)."""
    row = [min(sum(p in text for p in group), _MAX_COUNT) / _MAX_COUNT
           for group in _lowered_groups()]
    last = text[-1:] if text else ""
    row.append(float(bool(last) and last in _QUESTION_ENDS))
    row.append(float(last == "!"))
    row.append(float(any(_is_digit(a) and b in _CLASSIFIERS for a, b in zip(text, text[1:]))))
    row.append(float(text.startswith(_VAGUE_STARTS)))
    return row


def _in(codes: np.ndarray, chars: str) -> np.ndarray:
    return np.isin(codes, np.fromiter(map(ord, chars), dtype=np.int64))


def bait_rows(texts: list[str], points: CodePoints) -> np.ndarray:
    """Dense bait-style features, float64 of shape (n, n_features), equal to
    :func:`bait_row` of each text; ``texts`` must not be empty."""
    phrase_set, incidence = _phrase_table()
    n = len(texts)
    rows, ids = phrase_set.hits(texts, points)
    found = sp.csr_matrix((np.ones(len(rows)), (rows, ids)), shape=(n, incidence.shape[0]))
    grouped = np.minimum((found @ incidence).toarray(), _MAX_COUNT) / _MAX_COUNT

    codes, lengths = points.codes, points.lengths
    starts = _row_starts(points)
    nonempty = lengths > 0
    last = np.zeros(n, dtype=np.int64)
    last[nonempty] = codes[starts[nonempty] + lengths[nonempty] - 1]
    digit = (codes >= ord("0")) & (codes <= ord("9"))
    pairs = digit[:-1] & _in(codes[1:], _CLASSIFIERS) & points.inside(2)
    signals = np.column_stack([
        nonempty & _in(last, _QUESTION_ENDS),
        nonempty & (last == ord("!")),
        points.count_rows(pairs) > 0,
        np.fromiter((t.startswith(_VAGUE_STARTS) for t in texts), dtype=bool, count=n),
    ]).astype(np.float64)
    return np.hstack([grouped, signals])


def _row_starts(points: CodePoints) -> np.ndarray:
    """Position of each text's first character in ``points.codes``, int64, shape (n,)."""
    if points.separators is None:
        lengths = points.lengths
        return np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    # Joined by separators: text i starts after the i-th separator.
    return np.concatenate([[0], np.flatnonzero(points.separators) + 1])[:points.n_texts]


class BaitFeatures(TransformerMixin, BaseEstimator):
    """Bait-style phrase groups and position signals (see the module docstring).

    Stateless; :meth:`transform` returns sparse CSR float64 of shape
    (n headlines, n features), each value in [0, 1].
    """

    def fit(self, X: Sequence[str], y=None) -> "BaitFeatures":
        self.n_features_in_ = 1
        return self

    def transform(self, X: Sequence[str]) -> sp.csr_matrix:
        texts = [text.lower() for text in X]
        points = code_points(texts)
        if points is None or not texts:  # unpaired surrogates, or no texts
            return self.transform_one_by_one(X)
        return sp.csr_matrix(bait_rows(texts, points))

    def transform_one_by_one(self, X: Sequence[str]) -> sp.csr_matrix:
        """The reference definition of :meth:`transform`, one headline at a time."""
        rows = np.zeros((len(X), len(self.get_feature_names_out())), dtype=np.float64)
        for i, text in enumerate(X):
            rows[i] = bait_row(text.lower())
        return sp.csr_matrix(rows)

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        return np.asarray(list(PHRASE_GROUPS) + list(POSITION_SIGNALS), dtype=object)
