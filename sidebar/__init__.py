"""Portal sidebar filter: find a page's link blocks and drop or mark the bait.

>>> from model import load_model
>>> from sidebar import filter_page
>>> result = filter_page(page_bytes, load_model(), mode="remove")
>>> result.body  # the page without bait items, in its own encoding

Modules: :mod:`sidebar.encoding` (charset), :mod:`sidebar.document` (the
lxml parser, and why lxml), :mod:`sidebar.blocks` (block detection),
:mod:`sidebar.tokens` (where tags sit in the source), :mod:`sidebar.edits`
(byte-exact changes) and :mod:`sidebar.filtering` (scoring and the modes).
"""

from sidebar.filtering import MODES, FilterResult, filter_page, report_json

__all__ = ["MODES", "FilterResult", "filter_page", "report_json"]
