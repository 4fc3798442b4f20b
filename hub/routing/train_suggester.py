"""Train, evaluate and export the category suggester (a development tool: needs scikit-learn).

    python -m hub.routing.train_suggester --data /work/shared/data/message-board-2020 --evaluate

The labelled rows are read from the data directory and never copied: only the learned model (vocabularies,
idf weights, coefficients, the user dictionary) is written. Besides the labelled rows, the model learns from
pseudo-documents: every second/third-level name of the category tree and every entry of ``KEYWORDS`` (a
hand-written synonym table for the tree's leaves), each labelled with its first-level category.
Everything is seeded, so the same data gives the same file byte for byte.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import itertools
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import RepeatedStratifiedKFold, StratifiedKFold, train_test_split
from sklearn.svm import LinearSVC

from hub.routing.suggester import MODEL_FORMAT, MODEL_PATH, TAXONOMY_PATH, CategorySuggester, TextAnalyzer

Tokens = dict[str, list[str]]

# Synonyms and everyday wording for the leaves of the category tree (first level → keywords).
KEYWORDS: dict[str, str] = {
    "城乡建设": "安全生产 安全隐患 市政 城管 路灯 绿化 环卫 垃圾站 垃圾桶 公园 供暖 暖气 地铁 小区 物业 燃气 天然气"
    " 停电 供电 电力 自来水 停水 水压 下水道 排水 井盖 公交 公交车 公交线路 规划 违建 违章建筑 违法建筑 容积率 挡光"
    " 采光 日照 新农村 小城镇 施工 工程质量 抗震 拆迁 征收 补偿 安置 回迁 棚改 棚户区 城中村 危房 招投标 工程款 资质"
    " 住房公积金 公积金 保障房 保障性住房 公租房 廉租房 经适房 物业费 产权 房产证 不动产证 开发商 楼盘 房地产 租房 装修"
    " 房改 购房 商品房 交房 业主 住建局 电梯 停车位 围墙",
    "环境保护": "环保 环保局 环境监测 环境执法 环评 污染 排污 排放 废气 废水 污水 噪音 噪声 扰民 粉尘 扬尘 臭味 异味"
    " 油烟 辐射 电磁辐射 化工厂 化学品 焚烧 固废 土壤 重金属 水质 生态 植被 采砂 大气 空气质量 雾霾 黑臭 未批先建"
    " 环境影响 排放标准 养殖场 夜间施工",
    "交通运输": "出租车 的士 网约车 滴滴 运价 打表 拒载 客运 货运 物流 大巴 班车 长途车 运输 超载 公路 高速 高速公路"
    " 收费站 过路费 路桥费 规费 道路 修路 路面 交通 交警 邮政 快递 驾校 客车 车站 汽车站 码头 航线 运管 交通局 红绿灯"
    " 信号灯 拥堵 违停",
    "教育文体": "学校 学生 教师 老师 校长 教育 教育局 学费 补课 补习 培训机构 幼儿园 小学 中学 初中 高中 大学 学籍 学位"
    " 入学 招生 录取 中考 高考 考试 升学 择校 划片 学区 代课教师 民办 教材 校车 校园 体育 篮球 足球 运动会 健身 文化"
    " 图书馆 博物馆 文物 古迹 非遗 网吧 演出 广场舞 家长 班主任 寒假 暑假 课外",
    "劳动和社会保障": "社保 社会保险 养老保险 养老金 医保 医疗保险 新农合 合作医疗 工伤 生育保险 失业保险 失业金 工资"
    " 欠薪 拖欠工资 讨薪 农民工 最低工资 福利 待遇 就业 再就业 招聘 职业培训 职业技能 劳动合同 劳务派遣 辞退"
    " 解除劳动关系 加班 休假 劳动仲裁 人社局 社保卡 退休 退休金 退休工资 提前退休 病退 内退 缴费年限 五险一金 单位 员工"
    " 职工 工龄 人力资源",
    "商贸旅游": "旅游 景区 门票 导游 旅行社 市场 商场 超市 商户 商家 价格 物价 涨价 消费者 假冒 伪劣 商标 不正当竞争"
    " 广告 中介 传销 直销 产品质量 特种设备 检验 质监 进出口 外贸 出口 垄断 经营 营业执照 工商 市场监管 消费 退款 店铺"
    " 售后 质量问题 欺诈",
    "卫生计生": "医院 医生 护士 医疗 看病 就医 患者 病人 诊所 卫生院 医疗事故 医患 药品 药店 医疗器械 保健品 化妆品"
    " 食品安全 食品 餐馆 过期 疾病 传染病 疫苗 防疫 疾控 计生 计划生育 二胎 独生子女 失独 生育 超生 社会抚养费 卫计委"
    " 卫健委 卫生局 非法行医 体检 血站 献血 医疗收费 手术 住院 治疗",
}


@dataclass(frozen=True)
class Params:
    """The feature recipe and the classifier's settings (chosen by repeated 5-fold cross-validation)."""

    block_weights: dict[str, float] = field(default_factory=lambda: {"words": 1.0, "chars": 1.0, "title_chars": 0.7})
    # every token must occur in two documents: smaller model, and no one-off names from a message are shipped
    min_df: dict[str, int] = field(default_factory=lambda: {"words": 2, "chars": 2, "title_chars": 2})
    char_ngrams: tuple[int, ...] = (2, 3)
    c: float = 0.5
    pseudo_weight: float = 1.0
    seed: int = 0
    holdout: float = 0.25


@dataclass(frozen=True)
class Corpus:
    """Labelled messages: titles, contents and first-level labels, index-aligned."""

    titles: tuple[str, ...]
    contents: tuple[str, ...]
    labels: tuple[str, ...]


def load_labelled(data_dir: Path) -> Corpus:
    """Read labelled_messages.csv (label column 一级分类 or 一级标签)."""
    with (data_dir / "labelled_messages.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    label_col = "一级分类" if rows and "一级分类" in rows[0] else "一级标签"
    rows = [r for r in rows if (r.get(label_col) or "").strip()]
    return Corpus(
        tuple(r["留言主题"] for r in rows),
        tuple(r["留言详情"] for r in rows),
        tuple(r[label_col].strip() for r in rows),
    )


def read_taxonomy(path: Path) -> list[tuple[str, str, str]]:
    """The three-level category tree as (first, second, third) rows."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        next(reader, None)
        return [(a.strip(), b.strip(), c.strip()) for a, b, c, *_ in reader]


def user_words(taxonomy: Sequence[tuple[str, str, str]]) -> list[str]:
    """jieba user dictionary: the tree's short second/third-level names and the keyword table, sorted."""
    words = {name for row in taxonomy for name in row[1:] if name != "其他" and len(name) <= 6}
    words.update(w for text in KEYWORDS.values() for w in text.split())
    return sorted(words)


def pseudo_documents(taxonomy: Sequence[tuple[str, str, str]], categories: Sequence[str]) -> list[tuple[str, str]]:
    """(text, first-level label) pseudo-documents from the tree's leaves and the keyword table."""
    docs = [
        (" ".join(n for n in (second, third) if n != "其他"), first)
        for first, second, third in taxonomy
        if first in categories
    ]
    docs += [(word, label) for label, text in KEYWORDS.items() if label in categories for word in text.split()]
    return [(text, label) for text, label in docs if text]


class FittedModel:
    """The scikit-learn side of the suggester: one TF-IDF vectorizer per block and a linear SVM."""

    def __init__(
        self,
        params: Params,
        analyzed: Sequence[Tokens],
        labels: Sequence[str],
        pseudo: Sequence[Tokens],
        pseudo_labels: Sequence[str],
    ) -> None:
        self.params = params
        self.vectorizers: dict[str, TfidfVectorizer] = {}
        for name in TextAnalyzer.BLOCKS:
            vec = TfidfVectorizer(analyzer=_identity, sublinear_tf=True, min_df=params.min_df[name])
            vec.fit([d[name] for d in analyzed] + [d[name] for d in pseudo])
            self.vectorizers[name] = vec
        weights = np.concatenate([np.ones(len(analyzed)), np.full(len(pseudo), params.pseudo_weight)])
        self.svm = LinearSVC(C=params.c, class_weight="balanced", random_state=params.seed, max_iter=20000)
        self.svm.fit(
            self.transform(list(analyzed) + list(pseudo)), list(labels) + list(pseudo_labels), sample_weight=weights
        )
        self.categories: tuple[str, ...] = tuple(str(c) for c in self.svm.classes_)

    def transform(self, analyzed: Sequence[Tokens]) -> csr_matrix:
        """The weighted, block-wise l2-normalised TF-IDF matrix."""
        mats = [
            self.vectorizers[n].transform([d[n] for d in analyzed]) * self.params.block_weights[n]
            for n in TextAnalyzer.BLOCKS
        ]
        return csr_matrix(hstack(mats).tocsr())

    def decision_function(self, analyzed: Sequence[Tokens]) -> np.ndarray:
        """Decision scores, columns in ``categories`` order."""
        return np.asarray(self.svm.decision_function(self.transform(analyzed)))

    def predict(self, analyzed: Sequence[Tokens]) -> list[str]:
        """The best category per document."""
        return [self.categories[i] for i in self.decision_function(analyzed).argmax(axis=1)]

    def to_artifact(self, analyzer: TextAnalyzer, temperature: float, metrics: dict[str, Any]) -> dict[str, Any]:
        """The JSON-ready model file consumed by ``CategorySuggester``."""
        blocks = []
        for name in TextAnalyzer.BLOCKS:
            vec = self.vectorizers[name]
            blocks.append(
                {
                    "name": name,
                    "weight": self.params.block_weights[name],
                    "vocabulary": [str(t) for t in vec.get_feature_names_out()],
                    "idf": _rounded(vec.idf_),
                }
            )
        return {
            "format": MODEL_FORMAT,
            "categories": list(self.categories),
            "recipe": {
                "normalise": "NFKC, lower-case, place codes masked, whitespace collapsed",
                "tf": "1 + ln(count), times idf, l2-normalised per block, times block weight",
                "char_ngrams": list(analyzer.char_sizes),
                "user_words": list(analyzer.user_words),
                "blocks": blocks,
            },
            "coef": [_rounded(row) for row in self.svm.coef_],
            "intercept": _rounded(self.svm.intercept_),
            "temperature": round(temperature, 6),
            "metrics": metrics,
        }


def _identity(tokens: list[str]) -> list[str]:
    return tokens


def _rounded(values: np.ndarray) -> list[float]:
    return [float(f"{v:.6g}") for v in np.asarray(values, dtype=np.float64)]


class Trainer:
    """Analyses the texts once, then fits, cross-validates and calibrates on index subsets."""

    def __init__(self, corpus: Corpus, taxonomy: Sequence[tuple[str, str, str]], params: Params | None = None):
        self.params = params or Params()
        self.corpus = corpus
        self.categories = tuple(sorted(set(corpus.labels)))
        self.analyzer = TextAnalyzer(user_words(taxonomy), self.params.char_ngrams)
        self.analyzed = [self.analyzer.analyze(t, c) for t, c in zip(corpus.titles, corpus.contents, strict=True)]
        docs = pseudo_documents(taxonomy, self.categories)
        self.pseudo = [self.analyzer.analyze(text, text) for text, _ in docs]
        self.pseudo_labels = [label for _, label in docs]
        self.y = np.asarray(corpus.labels)

    def fit(self, idx: Sequence[int] | np.ndarray, params: Params | None = None) -> FittedModel:
        """Fit on the labelled rows ``idx`` plus the pseudo-documents."""
        params = params or self.params
        return FittedModel(
            params,
            [self.analyzed[i] for i in idx],
            [self.corpus.labels[i] for i in idx],
            self.pseudo if params.pseudo_weight > 0 else [],
            self.pseudo_labels if params.pseudo_weight > 0 else [],
        )

    def holdout_split(self) -> tuple[np.ndarray, np.ndarray]:
        """The fixed stratified train/held-out split."""
        train, test = train_test_split(
            np.arange(len(self.y)), test_size=self.params.holdout, stratify=self.y, random_state=self.params.seed
        )
        return np.sort(train), np.sort(test)

    def out_of_fold_scores(self, idx: np.ndarray, folds: int = 5) -> np.ndarray:
        """Decision scores of each row in ``idx`` from a model that did not see it (for calibration)."""
        scores = np.zeros((len(idx), len(self.categories)))
        skf = StratifiedKFold(folds, shuffle=True, random_state=self.params.seed)
        for tr, te in skf.split(idx, self.y[idx]):
            scores[te] = self.fit(idx[tr]).decision_function([self.analyzed[i] for i in idx[te]])
        return scores

    def calibrated_fit(self, idx: np.ndarray) -> tuple[FittedModel, float]:
        """A model on ``idx`` and the softmax temperature fitted on its out-of-fold scores."""
        temperature = fit_temperature(self.out_of_fold_scores(idx), self._targets(idx))
        return self.fit(idx), temperature

    def _targets(self, idx: np.ndarray) -> np.ndarray:
        return np.asarray([self.categories.index(label) for label in self.y[idx]])

    def cross_validate(self, params: Params | None = None, splits: int = 5, repeats: int = 3) -> dict[str, float]:
        """Accuracy and macro-F1 over repeated stratified k-fold: mean and sd across folds."""
        accs, f1s = [], []
        rskf = RepeatedStratifiedKFold(n_splits=splits, n_repeats=repeats, random_state=self.params.seed)
        for tr, te in rskf.split(self.y, self.y):
            pred = self.fit(tr, params).predict([self.analyzed[i] for i in te])
            accs.append(accuracy_score(self.y[te], pred))
            f1s.append(f1_score(self.y[te], pred, average="macro"))
        return {
            "accuracy_mean": float(np.mean(accs)),
            "accuracy_sd": float(np.std(accs)),
            "macro_f1_mean": float(np.mean(f1s)),
            "macro_f1_sd": float(np.std(f1s)),
            "folds": len(accs),
        }

    def evaluate_holdout(self) -> dict[str, float]:
        """Train on the training split (temperature included), score the held-out rows."""
        train, test = self.holdout_split()
        model, temperature = self.calibrated_fit(train)
        scores = model.decision_function([self.analyzed[i] for i in test])
        pred = [model.categories[i] for i in scores.argmax(axis=1)]
        probs = softmax(scores / temperature)
        return {
            "accuracy": float(accuracy_score(self.y[test], pred)),
            "macro_f1": float(f1_score(self.y[test], pred, average="macro")),
            "mean_confidence": float(probs.max(axis=1).mean()),
            "ece": expected_calibration_error(probs, self._targets(test)),
            "n_train": len(train),
            "n_test": len(test),
            "temperature": temperature,
        }


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax."""
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return np.asarray(e / e.sum(axis=1, keepdims=True))


def fit_temperature(scores: np.ndarray, targets: np.ndarray) -> float:
    """The temperature minimising the negative log-likelihood of softmax(scores / T) (a fixed log grid)."""
    grid = np.exp(np.linspace(np.log(0.01), np.log(10.0), 1201))
    rows = np.arange(len(targets))
    nll = [float(-np.log(softmax(scores / t)[rows, targets] + 1e-12).mean()) for t in grid]
    return float(grid[int(np.argmin(nll))])


def expected_calibration_error(probs: np.ndarray, targets: np.ndarray, bins: int = 10) -> float:
    """ECE of the top-1 confidence over equal-width bins."""
    conf, hit = probs.max(axis=1), (probs.argmax(axis=1) == targets).astype(float)
    edges = np.linspace(0.0, 1.0, bins + 1)
    ece = 0.0
    for lo, hi in itertools.pairwise(edges):
        mask = (conf > lo) & (conf <= hi)
        if mask.any():
            ece += mask.mean() * abs(conf[mask].mean() - hit[mask].mean())
    return float(ece)


def write_artifact(model: dict[str, Any], out: Path) -> None:
    """Write the model as deterministic gzipped JSON (no timestamp in the gzip header)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    payload = json.dumps(model, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    with out.open("wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz:
        gz.write(payload)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: evaluate (optionally), train on every row, write the model file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="directory holding labelled_messages.csv")
    parser.add_argument("--out", type=Path, default=MODEL_PATH, help=f"model file (default {MODEL_PATH})")
    parser.add_argument("--evaluate", action="store_true", help="print held-out and cross-validated figures")
    args = parser.parse_args(argv)
    tax_path = args.data / "taxonomy.csv" if (args.data / "taxonomy.csv").exists() else TAXONOMY_PATH
    trainer = Trainer(load_labelled(args.data), read_taxonomy(tax_path))
    print(
        f"{len(trainer.y)} labelled rows, {len(trainer.pseudo)} pseudo-documents, "
        f"categories: {', '.join(trainer.categories)}"
    )
    metrics: dict[str, Any] = {"n_labelled": len(trainer.y), "n_pseudo": len(trainer.pseudo)}
    if args.evaluate:
        held = trainer.evaluate_holdout()
        print(
            f"held-out ({held['n_test']} rows, seed {trainer.params.seed}): accuracy {held['accuracy']:.3f}, "
            f"macro-F1 {held['macro_f1']:.3f}, mean confidence {held['mean_confidence']:.3f}, "
            f"ECE {held['ece']:.3f}"
        )
        cv = trainer.cross_validate()
        print(
            f"cross-validated ({cv['folds']} folds, 5-fold x 3): accuracy {cv['accuracy_mean']:.3f} "
            f"± {cv['accuracy_sd']:.3f}, macro-F1 {cv['macro_f1_mean']:.3f} ± {cv['macro_f1_sd']:.3f}"
        )
        ablation = trainer.cross_validate(Params(pseudo_weight=0.0))
        print(
            f"  without the taxonomy/keyword pseudo-documents: accuracy {ablation['accuracy_mean']:.3f} "
            f"± {ablation['accuracy_sd']:.3f}, macro-F1 {ablation['macro_f1_mean']:.3f}"
        )
        metrics.update(
            {
                "holdout": {k: round(float(v), 4) for k, v in held.items()},
                "cv": {k: round(float(v), 4) for k, v in cv.items()},
            }
        )
    everything = np.arange(len(trainer.y))
    model, temperature = trainer.calibrated_fit(everything)
    artifact = model.to_artifact(trainer.analyzer, temperature, metrics)
    write_artifact(artifact, args.out)
    check = CategorySuggester.load(args.out)
    sample = everything[:: max(1, len(everything) // 25)]
    expected = model.decision_function([trainer.analyzed[i] for i in sample])
    got = np.asarray([check.decision_scores(trainer.corpus.titles[i], trainer.corpus.contents[i]) for i in sample])
    assert np.allclose(expected, got, atol=1e-4), "runtime scores differ from the training-time scores"
    n_features = sum(len(b["vocabulary"]) for b in artifact["recipe"]["blocks"])
    print(
        f"temperature {temperature:.3f}; {n_features} features; wrote {args.out} "
        f"({args.out.stat().st_size / 1024:.0f} KiB)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
