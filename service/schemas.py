"""Every request and response body of the HTTP API, declared once (pydantic).

The views validate requests with these classes
(:func:`service.views.validation.validated`), and ``/openapi.json`` is
generated from them (:mod:`service.views.spec`), so the document and the
server apply one set of rules.

Status codes follow from the kind of error (see
:mod:`service.views.validation`): a field of the wrong JSON type is 400, a
value of the right type that cannot be used is 422, more items than
``max_batch`` is 413.

Two limits are settings, not constants: ``max_batch`` (items per request)
and ``max_headline_chars``. They are declared with :class:`SettingLimit`,
checked against the app's settings (pydantic's validation context
``{"settings": Settings}``) and published in the document with their
configured value.
"""

from __future__ import annotations

import functools
import math
import sys
import unicodedata
from typing import Annotated, Any, Literal

from pydantic import (AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field,
                      model_validator)
from pydantic_core import PydanticCustomError, core_schema
from typing_extensions import TypeAliasType

from model.classifier import LABELS as LABEL_VALUES  # the one definition of the names
from service.config import RETRAIN_MODES, parse_bool
from service.stores.pools import POOLS
from sidebar.filtering import MODES

SETTING = "$setting"  # {"$setting": name} in a generated schema: the setting's value
MAX_SOURCE_CHARS = 200
MAX_CLIENT_ID_CHARS = 64
PAGE_LIMIT_MAX = 1000
QUEUE_MAX = 100
SQLITE_MAX_INTEGER = 2 ** 63 - 1  # larger query integers cannot even be compared in SQLite


# -- constraints the document and the validation share ------------------------

def invalid_type(expected: str) -> PydanticCustomError:
    return PydanticCustomError("invalid_type", "must be {expected}", {"expected": expected})


def invalid_value(message: str, **ctx: Any) -> PydanticCustomError:
    return PydanticCustomError("invalid_value", message, ctx or None)


class SettingLimit:
    """At most ``setting`` items (arrays: 413) or characters (strings: 422).

    Checked before the elements are, so an oversized batch is refused
    without reading it; documented as ``maxItems`` / ``maxLength``.
    """

    def __init__(self, setting: str):
        self.setting = setting

    def __get_pydantic_core_schema__(self, source: Any, handler) -> core_schema.CoreSchema:
        return core_schema.with_info_before_validator_function(self._check, handler(source))

    def __get_pydantic_json_schema__(self, schema, handler) -> dict:
        json_schema = handler(schema)
        keyword = "maxItems" if json_schema.get("type") == "array" else "maxLength"
        json_schema[keyword] = {SETTING: self.setting}
        return json_schema

    def _check(self, value: Any, info) -> Any:
        limit = getattr(info.context["settings"], self.setting)
        if isinstance(value, list) and len(value) > limit:
            raise PydanticCustomError(
                "batch_too_large", "has {count} items; the limit is {limit} per request: "
                "split it into several requests", {"count": len(value), "limit": limit})
        if isinstance(value, str) and len(value) > limit:
            raise invalid_value("is {count} characters long; the limit is {limit}",
                                count=len(value), limit=limit)
        return value


def _is_blank(text: str) -> bool:
    """Only whitespace, control, format or unassigned characters (nothing to read)."""
    return all(unicodedata.category(ch)[0] in "CZ" for ch in text)


@functools.lru_cache(maxsize=1)
def readable_pattern() -> str:
    """The regular expression (one character class, ~700 ranges) of the
    characters :func:`_is_blank` counts as readable: a headline is valid
    where it matches, and the document publishes it as the ``pattern``."""
    ranges, start = [], None
    for code in range(sys.maxunicode + 2):
        readable = code <= sys.maxunicode and unicodedata.category(chr(code))[0] not in "CZ"
        if readable and start is None:
            start = code
        elif not readable and start is not None:
            ranges.append((start, code - 1))
            start = None
    special = set("\\]^-[")

    def char(code: int) -> str:
        return ("\\" if chr(code) in special else "") + chr(code)

    return "[" + "".join(char(a) if a == b else f"{char(a)}-{char(b)}" for a, b in ranges) + "]"


def _valid_unicode(value: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise invalid_value("contains an unpaired UTF-16 surrogate (\\ud800-\\udfff escape); "
                            "send valid Unicode text") from None
    return value


class Readable:
    """A headline has at least one readable character (documented as ``pattern``)."""

    def __get_pydantic_core_schema__(self, source: Any, handler) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(self._check, handler(source))

    def __get_pydantic_json_schema__(self, schema, handler) -> dict:
        json_schema = handler(schema)
        json_schema.update(minLength=1, pattern=readable_pattern())
        return json_schema

    @staticmethod
    def _check(value: str) -> str:
        _valid_unicode(value)
        if _is_blank(value):
            raise invalid_value("is empty; send the headline text")
        return value


def _string(value: Any) -> Any:
    """Before an enum check: anything but a string is a wrong type (400), not a wrong value."""
    if not isinstance(value, str):
        raise invalid_type("a string")
    return value


def _probability(value: Any) -> float:
    """A JSON number in [0, 1]; integers compared as integers (float() of a huge one overflows)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise invalid_type("a number")
    if (isinstance(value, float) and not math.isfinite(value)) or not 0 <= value <= 1:
        raise invalid_value("must be between 0 and 1, not {value}", value=shown_value(value))
    return float(value)


def _query_probability(value: Any) -> float:
    try:
        number = float(value)
    except ValueError:
        raise invalid_type("a number") from None
    return _probability(number)


def _query_integer(value: Any) -> int:
    try:
        return int(value)
    except ValueError:
        raise invalid_type("an integer") from None


def _query_bool(value: Any) -> bool:
    try:
        return parse_bool(value)
    except ValueError:
        raise invalid_type("true or false") from None


def shown_value(value: Any, limit: int = 40) -> str:
    """``value`` as text, cut to ``limit`` characters (for error messages)."""
    text = str(value)
    return text if len(text) <= limit else text[:limit] + "..."


NOT_BLANK = r"[^ \t\n\r\x0b\x0c]"  # what bytes.strip() leaves: a page is not only blanks


def _page_text(value: str) -> str:
    if not value.strip(" \t\n\r\x0b\x0c"):
        raise invalid_value("is empty; send the page")
    return value


def _no_default(schema: dict) -> None:
    """The field may be left out but not sent as null: document no null default."""
    schema.pop("default", None)


Headline = TypeAliasType("Headline", Annotated[
    str, SettingLimit("max_headline_chars"), Readable(),
    Field(description="Any Unicode text (simplified or traditional Chinese, mixed scripts, "
                      "emoji) with at least one readable character (pattern: any character "
                      "outside Unicode's control, format, unassigned and separator "
                      "categories); control characters are ignored.")])
Probability = Annotated[float, Field(ge=0, le=1), BeforeValidator(_probability)]
QueryProbability = Annotated[float, Field(ge=0, le=1), BeforeValidator(_query_probability)]
LabelValue = Annotated[Literal[LABEL_VALUES], BeforeValidator(_string)]
Batch = Annotated[list[Headline], SettingLimit("max_batch"), Field(min_length=1)]


def _optional_text(max_chars: int) -> Any:
    return Annotated[str, Field(max_length=max_chars), AfterValidator(_valid_unicode)] | None


class Body(BaseModel):
    """A JSON request body: types as JSON has them (no "1" for 1), unknown keys ignored."""

    model_config = ConfigDict(strict=True, extra="ignore")


class Query(BaseModel):
    """Query parameters: strings converted; present but empty is not a value (400)."""

    model_config = ConfigDict(extra="ignore")


# -- requests -----------------------------------------------------------------

class ScoreRequest(Body):
    """Exactly one of ``headlines`` or ``headline``."""

    model_config = ConfigDict(json_schema_extra={
        "oneOf": [{"required": ["headlines"]}, {"required": ["headline"]}]})

    headlines: Batch = Field(None, json_schema_extra=_no_default)
    headline: Headline = Field(None, json_schema_extra=_no_default)
    explain: bool = Field(False, description="Add the n-grams that weigh most.")
    threshold: Probability | None = Field(
        None, description="p_clickbait cut; default (absent or null) the model's threshold.")

    @model_validator(mode="before")
    @classmethod
    def _exactly_one(cls, data: Any) -> Any:
        if isinstance(data, dict) and ("headline" in data) == ("headlines" in data):
            raise PydanticCustomError("invalid_type", 'send either "headlines": [...] or '
                                      '"headline": "..."', {"field": "headlines"})
        return data

    def texts(self) -> list[str]:
        return [self.headline] if self.headline is not None else self.headlines


class NewLabel(Body):
    headline: Headline
    label: LabelValue
    source: _optional_text(MAX_SOURCE_CHARS) = None
    client_id: _optional_text(MAX_CLIENT_ID_CHARS) = Field(
        None, description="Idempotency key: a label whose client_id was stored before stores "
                          "nothing new (a resent batch).")


class LabelsRequest(Body):
    labels: Annotated[list[NewLabel], SettingLimit("max_batch"), Field(min_length=1)]


class RetrainRequest(Body):
    mode: Annotated[Literal[RETRAIN_MODES], BeforeValidator(_string)] = Field(
        None, json_schema_extra=_no_default,
        description="auto, corpora or labels; default the retrain_mode setting.")


class PoolUpload(Body):
    headlines: Batch


class FilterJsonRequest(Body):
    """A page as JSON text (the page is then UTF-8); a ``url`` is refused (422)."""

    model_config = ConfigDict(json_schema_extra=lambda schema: schema["properties"].update(
        url={"not": {}, "description": "refused: the service never fetches a page"}))

    html: Annotated[str, AfterValidator(_page_text)] = Field(
        json_schema_extra={"pattern": NOT_BLANK},
        description="The page; at least one character besides ASCII whitespace.")
    threshold: Probability | None = None

    @model_validator(mode="before")
    @classmethod
    def _no_url(cls, data: Any) -> Any:
        if isinstance(data, dict) and "url" in data:
            raise PydanticCustomError("invalid_value", 'url is not accepted: the service never '
                                      'fetches pages; send the page itself as "html"',
                                      {"field": "url"})
        return data


class LabelsQuery(Query):
    since: Annotated[int, Field(ge=0, le=SQLITE_MAX_INTEGER), BeforeValidator(_query_integer)] = 0
    limit: Annotated[int, Field(ge=1, le=PAGE_LIMIT_MAX), BeforeValidator(_query_integer)] = 100


class ExportQuery(Query):
    current: Annotated[bool, Field(description="Only the newest label per headline."),
                       BeforeValidator(_query_bool)] = False


class QueueQuery(Query):
    pool: Literal[POOLS] = "unlabeled"
    n: Annotated[int, Field(ge=1, le=QUEUE_MAX), BeforeValidator(_query_integer)] = 20


class FilterQuery(Query):
    mode: Literal[MODES] = "report"
    threshold: QueryProbability = Field(
        None, json_schema_extra=_no_default, description="p_clickbait cut (default: the model's).")


# -- responses ----------------------------------------------------------------

Label = Literal[LABEL_VALUES]


class ErrorDetail(BaseModel):
    code: str = Field(examples=["malformed_json", "invalid_type", "invalid_value",
                                "batch_too_large", "body_too_large", "unauthorized",
                                "not_found", "method_not_allowed", "job_running",
                                "internal_error"])
    message: str
    field: str | None = Field(None, description="The offending field, e.g. headlines[3].")
    job: str | None = Field(None, description="409 job_running: the running job's id.")
    limit: int | None = None


class Error(BaseModel):
    error: ErrorDetail


class Health(BaseModel):
    status: Literal["ok"]
    model: str | None = Field(description="Active version in the registry.")
    loaded_model: str | None = Field(None, description="Version loaded by the worker that "
                                                       "answered.")


class Ready(BaseModel):
    status: Literal["ready"]
    model: str


class Weight(BaseModel):
    feature: str
    weight: float


class ScoreResult(BaseModel):
    headline: str
    label: Label
    p_clickbait: float = Field(ge=0, le=1)
    model: str
    explanation: list[Weight] | None = None


class ScoreResponse(BaseModel):
    model: str
    threshold: float
    results: list[ScoreResult]


class LabelsStored(BaseModel):
    stored: int
    ids: list[int]


class StoredLabel(BaseModel):
    id: int
    headline: str
    normalized: str
    label: Label
    source: str | None = None
    token: str | None = None
    created: str = Field(json_schema_extra={"format": "date-time"})


class LabelsPage(BaseModel):
    labels: list[StoredLabel]
    next: int | None = Field(description="since of the next page; null on the last page.")


class JobStarted(BaseModel):
    job: str
    state: Literal["queued"]
    url: str


class Metrics(BaseModel):
    """Metrics on the held-out set (training.evaluation.evaluate)."""

    model_config = ConfigDict(extra="allow")

    n: int | None = None
    roc_auc: float | None = None
    average_precision: float | None = None
    f1: float | None = None
    accuracy: float | None = None


class Job(BaseModel):
    model_config = ConfigDict(extra="allow")

    job: str
    state: Literal["queued", "running", "succeeded", "failed"]
    mode: Literal[RETRAIN_MODES] | None = None
    stage: str | None = None
    progress: float = Field(ge=0, le=1)
    version: str | None = Field(None, description="The candidate's model version.")
    decision: Literal["promoted", "rejected"] | None = None
    reason: str | None = None
    candidate_metrics: Metrics | None = None
    active_metrics: Metrics | None = None


class ModelSummary(BaseModel):
    model_config = ConfigDict(extra="allow")

    version: str
    status: Literal["active", "candidate", "rejected", "retired"]
    active: bool
    pinned: bool
    created: str | None = None
    reason: str = ""
    sha256: str
    kind: str | None = None
    threshold: float | None = None
    validation: Metrics | None = None
    problem: str | None = Field(None, description="Why the manifest cannot be read.")


class ModelsList(BaseModel):
    active: str | None
    models: list[ModelSummary]


class Activated(BaseModel):
    active: str
    previous: str | None


class Pinned(BaseModel):
    version: str
    pinned: bool


class Pool(BaseModel):
    available: bool
    count: int
    note: str | None = None


class Pools(BaseModel):
    pools: dict[str, Pool]


class PoolUploaded(BaseModel):
    added: int
    count: int


class Queue(BaseModel):
    pool: str
    model: str
    threshold: float
    open: int = Field(description="Headlines of the pool not labelled yet.")
    labelled: int
    items: list[ScoreResult]


class ReportLink(BaseModel):
    href: str = Field(description="As written in the page.")
    text: str
    label: Label
    p_clickbait: float = Field(ge=0, le=1)


class ReportBlock(BaseModel):
    heading: str | None
    marked: bool = Field(description="The page marked the block with data-sieve-block.")
    links: list[ReportLink]


class ReportSummary(BaseModel):
    blocks: int
    links: int
    clickbait: int


class FilterReport(BaseModel):
    mode: Literal[MODES]
    model: str = Field(description="Model version that scored the links.")
    threshold: float
    encoding: str = Field(description="Charset of the page, e.g. utf-8, gbk.")
    blocks: list[ReportBlock]
    summary: ReportSummary
