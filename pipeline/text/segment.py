"""Page lines to passages: line roles (title, byline, date, boilerplate, body) and sentences.

Page chrome is known by its shape, not by a list of one site's strings (a
list is kept for the commonest): link-like lines (menus, language pickers,
addresses), calls to action ("Click here to subscribe"), media credits
("Photo: ..."), promotion headers ("More stories from ...") and short
non-sentences repeated across the articles of one input folder.

Sentences come from pysbd (rule-based, handles "Mr.", "U.S.", initials); each
passage keeps the number of the line (paragraph) it sits in, counted over the
page's non-empty lines as in the annotation guidelines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from pipeline.text.readers import Article, norm_line

CHROME = re.compile(
    r"^(language\s*:.*|back to top|you might also like|related( coverage| articles| stories)?|"
    r"share( this( article| story)?)?|"
    r"share on \w+|tweet|print|email|subscribe.*|sign up.*|advertisement|read more.*|more from .*|comments?|"
    r"follow us.*|all rights reserved.*|©.*|copyright .*|skip to (main )?content|menu|home|next article|"
    r"previous article|"
    r"most read|trending|recommended( for you)?|newsletter.*|cookie.*|opinion|analysis|commentary|editorial|op-ed|"
    r"column|"
    r"guest column|opinion\s*[|:/-]\s*[\w ]{1,30}|[\w ]{1,20}\s*[|/]\s*opinion)$",
    re.IGNORECASE,
)
MONTHS = r"(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
DATE = re.compile(
    rf"^(\w+day,?\s+)?(({MONTHS}\s+\d{{1,2}},?\s+\d{{4}})|(\d{{1,2}}\s+{MONTHS},?\s+\d{{4}})|(\d{{4}}-\d{{2}}-\d{{2}})|(\d{{1,2}}/\d{{1,2}}/\d{{2,4}}))"
    r"(\s*[|,·-]?\s*\d{1,2}:\d{2}.*)?$",
    re.IGNORECASE,
)
BYLINE = re.compile(r"^(by\s+\S.*|[•·\-–]\s*\S.*|written by .*|author\s*:.*)$", re.IGNORECASE)
END_PUNCT = re.compile(r"[.!?…][”\"’')\]]*$")

# -- chrome by shape ---------------------------------------------------------------
LINK = re.compile(
    r"https?://|\bwww\.|\b[\w.+-]+@[\w-]+\.[\w.]+|\b[\w-]+\.(com|org|net|info|io|co\.uk|news)(/\S*)?\b"
    r"|[»›→]\s*$|^\s*[«‹←]",
    re.IGNORECASE,
)
MENU_SEP = re.compile(r"\s*[|·•]\s*|\s+/\s+")
AUTHOR = re.compile(r"^(by|written by|author\s*:)\s", re.IGNORECASE)
LANGUAGES = set(
    """
    english français francais french español espanol spanish deutsch german italiano italian português portugues
    portuguese nederlands dutch polski polish svenska swedish norsk dansk suomi türkçe turkce русский українська
    العربية عربي فارسی עברית हिन्दी 中文 简体 繁體 简体中文 繁體中文 日本語 한국어 ελληνικά română magyar čeština
    bahasa indonesia melayu tiếng việt ไทย kiswahili català euskara galego""".split()
)
# calls to action: these open chrome outright; "sign"/"log" with a particle (sign up, log in) do too;
# the softer verbs (read, follow, watch) need an object that points at the site, in a non-sentence
CTA_VERBS = {"click", "subscribe", "unsubscribe"}
CTA_PARTICLE = {"sign": {"up", "in", "out", "into"}, "log": {"in", "out", "on", "into"}}
CTA_SOFT = set(
    """tap donate download register follow share listen watch join continue read see view get visit like
    support try""".split()
)
CTA_OBJECTS = set(
    """here now us newsletter newsletters app podcast free updates alerts link online full more reading
    latest briefing edition account subscription below above story article video gallery""".split()
)
MEDIA_CREDIT = re.compile(
    r"^\(?\s*(file\s+)?(photo(graph)?s?|images?|pictures?|pictured|video|graphic|illustration"
    r"|infographic|credit|caption|(top|main|header|lead|feature[d]?)\s+(image|photo))"
    r"(\s+(credit|by))?\s*[:|/]",
    re.IGNORECASE,
)
PROMO = re.compile(
    r"^(more|most|latest|top|other|related|also|recommended|popular|further|editor'?s'?|today'?s)\b", re.IGNORECASE
)
PROMO_NOUNS = set(
    """stories story news articles reads reading posts videos headlines picks coverage links podcasts
    viewed shared popular""".split()
)
# a finite verb of the closed class: a line with one is a sentence, whatever its length
AUX = set(
    """is are was were am be been has have had will would can could should may might must does did do says said
    isn't aren't wasn't won't can't don't doesn't didn't""".split()
)


def _words(line: str) -> list[str]:
    return [w.strip("“”\"‘’'.,:;!?()[]").casefold() for w in line.split()]


def _is_sentence(line: str) -> bool:
    """Prose rather than a label: six words or more ending in sentence
    punctuation, or a finite verb of the closed class (is, has, said, ...)."""
    words = _words(line)
    return (len(words) >= 6 and bool(END_PUNCT.search(line))) or any(w in AUX for w in words)


def _is_menu(line: str) -> bool:
    """Link-like: a menu or a language picker, items of a few words between
    separators, or a line made of language names after an optional label."""
    items = [x for x in MENU_SEP.split(line) if x.strip()]
    if len(items) >= 3 and all(len(x.split()) <= 3 for x in items) and not END_PUNCT.search(line):
        return True
    body = line.split(":", 1)[1] if ":" in line and len(line.split(":", 1)[0].split()) <= 3 else line
    words = [w for w in _words(body) if w]
    langs = sum(w in LANGUAGES for w in words)
    return langs >= 2 and langs * 2 >= len(words)


def chrome_shape(line: str) -> str | None:
    """Why a line is page chrome by its shape, or None: ``link`` (an address, a
    menu, a language picker), ``action`` (click here, subscribe, sign up),
    ``credit`` (Photo: ..., Image: ...) or ``promo`` (More stories from ...)."""
    bare = line.strip().strip("•·|").strip()
    words = _words(bare)
    if not words or AUTHOR.match(bare) or DATE.match(bare):
        return None
    if MEDIA_CREDIT.match(bare) and len(words) <= 40:
        return "credit"
    sentence = _is_sentence(bare)
    if len(words) <= 12 and (
        words[0] in CTA_VERBS
        or (len(words) > 1 and words[1] in CTA_PARTICLE.get(words[0], ()))
        or (words[0] in CTA_SOFT and CTA_OBJECTS & set(words[1:]) and not sentence)
    ):
        return "action"
    if sentence:
        return None
    if len(words) <= 12 and (_is_menu(bare) or (LINK.search(bare) and len(words) <= 8)):
        return "link"
    if len(words) <= 8 and PROMO.match(bare) and PROMO_NOUNS & set(words) and not END_PUNCT.search(bare):
        return "promo"
    return None


def chrome_reason(line: str, repeated: frozenset = frozenset()) -> str | None:
    """Why a line is chrome: ``known`` (the common strings), a shape of
    :func:`chrome_shape`, or ``repeated`` (a short non-sentence that other
    articles of the same folder carry too); None for content."""
    bare = line.strip().strip("•·|").strip()
    if CHROME.match(bare) or CHROME.match(line.strip()):
        return "known"
    shape = chrome_shape(line)
    if shape:
        return shape
    if (
        repeated
        and norm_line(line) in repeated
        and len(bare.split()) <= 12
        and not _is_sentence(bare)
        and not DATE.match(bare)
        and not BYLINE.match(line.strip())
    ):
        return "repeated"
    return None


@dataclass
class Passage:
    doc_id: str
    index: int
    paragraph: int
    text: str
    role: str


def _is_body_like(line: str) -> bool:
    words = len(line.split())
    return words >= 12 and bool(END_PUNCT.search(line))


def _is_author_bio(line: str, names: list[str]) -> bool:
    """ "The author is a hydrologist ..." or "<byline name> is a columnist ..."."""
    head = " ".join(line.split()[:8])
    if re.match(
        r"^(the author|the writer|this author)\b.*\b(is|was|has|farms|writes|works|teaches|covers|lives)\b",
        head,
        re.IGNORECASE,
    ):
        return True
    return any(
        n and line.startswith(n) and re.match(r"^\s+(is|was|has been|writes|teaches|covers)\b", line[len(n) :])
        for n in names
    ) or bool(
        re.match(
            r"^[A-Z][a-z]+ [A-Z][a-z]+ is (a|an|the) (former |senior |retired )?[a-z -]{0,30}"
            r"(columnist|writer|journalist|fellow|professor|editor|correspondent|planner|analyst|researcher|economist|"
            r"lecturer)\b",
            line,
        )
    )


def line_roles(lines: list[str], has_header: bool = True, repeated: frozenset = frozenset()) -> list[str]:
    """Give each page line a role: title, byline, date, boilerplate or body.

    Chrome (:func:`chrome_reason`; ``repeated`` holds the lines other articles
    of the folder share) is boilerplate wherever it sits. The header runs
    until the first body-like line (12+ words ending in punctuation). In it,
    dates and "By ..." lines are recognised, the first other line is the
    title, and later short lines are byline detail
    (an author's affiliation, which may repeat across one author's articles, so
    repetition alone does not make it chrome). After it, short unpunctuated
    lines are boilerplate.
    """
    roles: list[str] = []
    in_header = has_header
    seen_title = not has_header
    seen_byline = False
    author_names: list[str] = []
    for line in lines:
        bare = line.strip().strip("•·|").strip()
        reason = chrome_reason(line, repeated)
        if reason and not (reason == "repeated" and in_header and seen_byline):
            roles.append("boilerplate")
            continue
        if _is_author_bio(line, author_names):
            roles.append("byline")
            continue
        if in_header and _is_body_like(line):
            in_header = False
        if in_header:
            if DATE.match(bare):
                roles.append("date")
            elif BYLINE.match(line.strip()) and len(line.split()) <= 12:
                roles.append("byline")
                seen_byline = True
                author_names.append(
                    re.sub(r"^(by|written by|author\s*:)\s+|^[•·\-–]\s*", "", line.strip(), flags=re.IGNORECASE)
                    .split(",")[0]
                    .strip()
                )
            elif seen_title and line.rstrip().endswith("?"):
                roles.append("body")  # a question subhead opens the body
                in_header = False
            elif not seen_title:
                roles.append("title")
                seen_title = True
            elif seen_byline or len(line.split()) <= 12:
                roles.append("byline")
            else:
                roles.append("body")
                in_header = False
            continue
        if len(line.split()) <= 5 and not END_PUNCT.search(line):
            roles.append("boilerplate")
        else:
            roles.append("body")
    return roles


@lru_cache(maxsize=1)
def _segmenter():
    import pysbd

    return pysbd.Segmenter(language="en", clean=False)


_CLOSE_Q = "”"


def split_sentences(paragraph: str) -> list[str]:
    """Split one paragraph into sentences (pysbd, then a repair pass).

    The repair joins a fragment that starts with a lower-case letter or a
    closing quote to the sentence before it (``“...?” she asked.``), which
    pysbd sometimes splits.
    """
    parts = [x for s in _segmenter().segment(paragraph) if s.strip() for x in _split_inside(s.strip())]
    out: list[str] = []
    for s in parts:
        joins = s[0].islower() or s[0] in _CLOSE_Q + "”’),;:" or (s[0] == '"' and out and out[-1].count('"') % 2 == 1)
        tag = out and re.search(r"[?!][”\"]$", out[-1]) and SPEECH_TAG.match(s)
        if out and (joins or tag):
            out[-1] = f"{out[-1]} {s}"
        else:
            out.append(s)
    return out


ABBREVIATIONS = {
    "mr",
    "mrs",
    "ms",
    "dr",
    "gen",
    "col",
    "lt",
    "sgt",
    "capt",
    "cmdr",
    "adm",
    "sen",
    "rep",
    "gov",
    "pres",
    "prof",
    "st",
    "jr",
    "sr",
    "no",
    "vs",
    "etc",
    "inc",
    "corp",
    "co",
    "ltd",
    "jan",
    "feb",
    "mar",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
    "u.s",
    "u.k",
    "u.n",
    "e.g",
    "i.e",
    "a.m",
    "p.m",
}
SPEECH_TAG = re.compile(
    r"^([A-Z][\w’'.-]*(?:\s+[A-Z][\w’'.-]*){0,3}|[Hh]e|[Ss]he|[Tt]hey|[Tt]he \w+(?: \w+)?)\s+"
    r"(said|says|asked|added|replied|insisted|wrote|told \w+|went on)\b[^.!?]{0,60}[.!?]$"
)


def _split_inside(sentence: str) -> list[str]:
    """Split what pysbd keeps together inside quotations: “First. Second,” and “One.” “Two.”."""
    pieces, start = [], 0
    for m in re.finditer(r"(?<=[.!?])([”\"]?)\s+(?=[“\"]?[A-Z])", sentence):
        before = sentence[start : m.start()]
        last = re.findall(r"([\w.]+)[.!?]$", before.rstrip('”"'))
        token = last[0].lower().rstrip(".") if last else ""
        if token in ABBREVIATIONS or (len(token) == 1 and token.isalpha()):
            continue
        closing = m.group(1)
        opened = sentence[: m.start()].count("“") - sentence[: m.start()].count("”")
        straight_open = sentence[: m.start()].count('"') % 2 == 1
        if not (opened > 0 or straight_open or closing):
            continue  # outside quotes pysbd has already decided
        pieces.append(sentence[start : m.end()].strip())
        start = m.end()
    pieces.append(sentence[start:].strip())
    return [p for p in pieces if p]


def segment_article(article: Article) -> list[Passage]:
    """All passages of an article, numbered 1.. in page order."""
    roles = line_roles(article.lines, article.has_header, article.repeated_lines)
    passages: list[Passage] = []
    for p, (line, role) in enumerate(zip(article.lines, roles)):
        sentences = split_sentences(line) if role == "body" else [line]
        for s in sentences:
            passages.append(Passage(article.doc_id, len(passages) + 1, p, s, role))
    if article.has_header:
        for role in ("title", "byline", "date"):
            if getattr(article, role) is None:
                found = [x.text for x in passages if x.role == role]
                if found:
                    value = (
                        found[0]
                        if role != "byline"
                        else found[0].lstrip("•·-– ").removeprefix("By ").removeprefix("by ")
                    )
                    setattr(article, role, value)
    return passages
