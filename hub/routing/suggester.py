"""The category suggester: a first-level category and a calibrated confidence for a citizen's message.

The model is a linear classifier over TF-IDF features (jieba words, character 2/3-grams of the whole text and
character 2/3-grams of the title), trained by ``hub.routing.train_suggester`` and shipped as a gzipped JSON
file. Inference needs only numpy, jieba and the standard library: the file carries the vocabularies, the idf
weights, the coefficient matrix, the intercepts, the softmax temperature and the feature recipe, and this
module reproduces the training-time decision scores. The text analysis below is the single definition both
sides use, so training and inference cannot drift apart.

The model knows the seven first-level categories of its training data; the hub's eighth, ``其他``, is never
predicted: callers treat a low confidence as "a person should choose".
"""

from __future__ import annotations

import csv
import gzip
import json
import logging
import operator
import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import jieba
import numpy as np

jieba.setLogLevel(logging.WARNING)

DATA_DIR = Path(__file__).resolve().parent / "data"
MODEL_PATH = DATA_DIR / "category_model.json.gz"
TAXONOMY_PATH = DATA_DIR / "taxonomy.csv"
MODEL_FORMAT = "hub.category-suggester/1"

# Anonymised place names of the source data ("A市", "A3区", "K8县") and real ones alike end in an
# administrative suffix; masking the codes keeps them from becoming spurious category evidence.
_PLACE_CODE = re.compile(r"(?<![a-z])[a-z]\d*[市区县镇乡]")
_EXCEL_CR = re.compile(r"_x000d_", re.IGNORECASE)
_SPACES = re.compile(r"\s+")
_WORD = re.compile(r"\w+")
_NOT_CJK_OR_LETTER = re.compile(r"[\W\d_]+")
_JIEBA_RUNS = jieba.re_han_default
_RUN_CACHE_SIZE = 16384  # runs of a few characters each: a few MB at most


def normalize_text(text: str) -> str:
    """NFKC-fold, lower-case, mask place codes and collapse the board's whitespace into single spaces."""
    text = unicodedata.normalize("NFKC", text or "")
    text = _EXCEL_CR.sub(" ", text).lower()
    text = _PLACE_CODE.sub("某地", text)
    return _SPACES.sub(" ", text).strip()


def _grams(run: str, n: int) -> Iterable[str]:
    """The n-grams of a run in order: its shifted copies added together character by character (in C)."""
    if n == 1:
        return run
    grams: Iterable[str] = map(operator.add, run, run[1:])
    for shift in range(2, n):
        grams = map(operator.add, grams, run[shift:])
    return grams


def char_ngrams(text: str, sizes: Sequence[int]) -> list[str]:
    """Character n-grams inside runs of letters (punctuation, digits and spaces break the runs)."""
    grams: list[str] = []
    for run in _NOT_CJK_OR_LETTER.sub(" ", text).split():
        for n in sizes:
            grams.extend(_grams(run, n))
    return grams


class TextAnalyzer:
    """Turns a (title, content) pair into the token lists of each feature block."""

    BLOCKS = ("words", "chars", "title_chars")

    def __init__(self, user_words: Iterable[str], char_sizes: Sequence[int] = (2, 3)) -> None:
        self.user_words = tuple(user_words)
        self.char_sizes = tuple(char_sizes)
        self._tokenizer: Any = None
        self._lock = threading.Lock()
        # Citizens' messages repeat their phrases ("请尽快处理", road and estate names): segmenting each run of
        # characters once is most of the suggester's time saved, and jieba segments runs independently.
        self._cut_run = lru_cache(maxsize=_RUN_CACHE_SIZE)(self._cut_run_uncached)

    def _jieba(self) -> Any:
        with self._lock:
            if self._tokenizer is None:
                tokenizer = jieba.Tokenizer()
                tokenizer.initialize()
                for word in self.user_words:  # order matters: add_word's default frequency depends on it
                    tokenizer.add_word(word)
                self._tokenizer = tokenizer
            return self._tokenizer

    def _cut_run_uncached(self, run: str) -> tuple[str, ...]:
        return tuple(w for w in self._jieba().lcut(run) if _WORD.fullmatch(w) and not w.isdigit())

    def words(self, text: str) -> list[str]:
        """jieba words of a normalised text, without punctuation and bare numbers."""
        # jieba.lcut(text) is the concatenation of lcut over the pieces of its own split (runs and the rest).
        return [w for run in _JIEBA_RUNS.split(text) if run for w in self._cut_run(run)]

    def analyze(self, title: str, content: str = "") -> dict[str, list[str]]:
        """The token list of every feature block for one message."""
        title, content = normalize_text(title), normalize_text(content)
        return {
            "words": self.words(title) + self.words(content),
            "chars": char_ngrams(f"{title} {content}", self.char_sizes),
            "title_chars": char_ngrams(title, self.char_sizes),
        }


@dataclass(frozen=True)
class Suggestion:
    """The suggester's answer: the best category, its calibrated probability and every category ranked."""

    category: str
    confidence: float
    ranked: tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class _Block:
    name: str
    weight: float
    index: dict[str, int]
    idf: np.ndarray
    offset: int


class CategorySuggester:
    """Suggests a first-level category for a citizen's message from its title and content."""

    def __init__(self, model: dict[str, Any]) -> None:
        if model.get("format") != MODEL_FORMAT:
            raise ValueError(f"not a category model of format {MODEL_FORMAT!r}: {model.get('format')!r}")
        self._categories = tuple(str(c) for c in model["categories"])
        recipe = model["recipe"]
        self.analyzer = TextAnalyzer(recipe["user_words"], recipe["char_ngrams"])
        blocks: list[_Block] = []
        offset = 0
        for spec in recipe["blocks"]:
            vocabulary = list(spec["vocabulary"])
            blocks.append(
                _Block(
                    spec["name"],
                    float(spec["weight"]),
                    {t: i for i, t in enumerate(vocabulary)},
                    np.asarray(spec["idf"], dtype=np.float64),
                    offset,
                )
            )
            offset += len(vocabulary)
        self._blocks = tuple(blocks)
        self._coef = np.asarray(model["coef"], dtype=np.float64)
        # Column-major copies for scoring: a message's known tokens gather contiguous rows.
        self._coef_by_column = np.ascontiguousarray(self._coef.T)
        self._idf = np.concatenate([block.idf for block in blocks]) if blocks else np.zeros(0)
        self._intercept = np.asarray(model["intercept"], dtype=np.float64)
        self._temperature = float(model["temperature"])
        if self._coef.shape != (len(self._categories), offset) or self._intercept.shape != (len(self._categories),):
            raise ValueError("category model: coefficient shapes do not match the vocabulary")
        self.metrics: dict[str, Any] = dict(model.get("metrics", {}))

    @classmethod
    def load(cls, path: Path | None = None) -> CategorySuggester:
        """Load a model file (gzipped JSON if it ends in .gz); by default the one shipped with the hub."""
        path = Path(path) if path is not None else MODEL_PATH
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8") as fh:
            return cls(json.load(fh))

    @property
    def categories(self) -> tuple[str, ...]:
        """The categories the model can suggest, in the model's column order."""
        return self._categories

    def decision_scores(self, title: str, content: str = "") -> np.ndarray:
        """Raw linear scores per category (the training library's ``decision_function``)."""
        tokens = self.analyzer.analyze(title, content)
        # Every block's known tokens go into one column list, so the whole message costs one gather and one
        # product instead of a handful of small numpy calls per block (the suggester runs once per new case).
        columns: list[int] = []
        counts: list[int] = []
        spans: list[tuple[int, int, float]] = []
        for block in self._blocks:
            index, offset, start = block.index, block.offset, len(columns)
            for token, count in Counter(tokens[block.name]).items():
                i = index.get(token)
                if i is not None:
                    columns.append(offset + i)
                    counts.append(count)
            spans.append((start, len(columns), block.weight))
        scores = self._intercept.copy()
        if not columns:
            return scores
        col = np.asarray(columns, dtype=np.int64)
        values = (1.0 + np.log(np.asarray(counts, dtype=np.float64))) * self._idf[col]
        scale = np.zeros(len(columns), dtype=np.float64)
        for start, end, weight in spans:
            if end > start:
                norm = float(np.sqrt(np.dot(values[start:end], values[start:end])))
                if norm > 0.0:
                    scale[start:end] = weight / norm
        scores += (values * scale) @ self._coef_by_column[col]
        return scores

    def probabilities(self, title: str, content: str = "") -> np.ndarray:
        """Temperature-scaled softmax of the decision scores, in ``categories`` order."""
        z = self.decision_scores(title, content) / self._temperature
        z = np.exp(z - z.max())
        return np.asarray(z / z.sum())

    def suggest(self, title: str, content: str = "") -> Suggestion:
        """The best category for a message, how sure the model is, and all categories ranked."""
        probs = self.probabilities(title, content)
        order = sorted(range(len(probs)), key=lambda i: (-probs[i], i))
        ranked = tuple((self._categories[i], float(probs[i])) for i in order)
        return Suggestion(category=ranked[0][0], confidence=ranked[0][1], ranked=ranked)


_default_lock = threading.Lock()
_default: CategorySuggester | None = None


def default_suggester() -> CategorySuggester:
    """The shipped model, loaded once per process."""
    global _default
    with _default_lock:
        if _default is None:
            _default = CategorySuggester.load()
        return _default


@lru_cache(maxsize=1)
def _taxonomy_rows() -> tuple[tuple[str, str, str], ...]:
    with TAXONOMY_PATH.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        next(reader, None)
        return tuple((a.strip(), b.strip(), c.strip()) for a, b, c, *_ in reader)


def load_taxonomy() -> list[tuple[str, str, str]]:
    """The shipped three-level category tree as (first, second, third) level rows."""
    return list(_taxonomy_rows())
