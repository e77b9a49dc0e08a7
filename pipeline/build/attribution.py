"""Rule-based attribution: whose claim each passage carries.

For every body passage: ``source`` (a canonical actor, a side as a body, a named
third party, or ``author``), ``source_side``, ``cue`` and ``form`` — one of
``direct`` (quoted words), ``indirect`` (reported speech, "according to"),
``account`` (the author paraphrasing a side's version) or ``continuation``
(reported speech carried on without a new cue).

Speakers are resolved through the dispute config (names, surnames, titles,
role phrases) and pronouns point back to the last speaker. The rules are
ordered: a quotation group, then a side's account, then a speech verb with
its subject, then "according to", then continuation, else the author.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.dispute import Dispute

CUE_VERBS = (
    "said|says|say|told|tells|stressed|stresses|insisted|insists|argued|argues|claimed|claims|pointed out|points out|"
    "noted|notes|added|adds|explained|explains|warned|warns|mentioned|mentions|maintained|maintains|denied|denies|"
    "alleged|alleges|acknowledged|acknowledges|admitted|admits|announced|announces|asserted|asserts|contended|contends|"
    "declared|declares|emphasi[sz]ed|emphasi[sz]es|complained|complains|countered|counters|replied|replies|responded|"
    "responds|suggested|suggests|urged|urges|vowed|vows|wrote|writes|testified|testifies|conceded|concedes|reiterated|"
    "reiterates|stated|states|recalled|recalls|blamed|blames|accused|accuses|remarked|remarks|observed|observes|"
    "confirmed|confirms|revealed|reveals|promised|promises|predicted|predicts|asked|asks|answered|answers|retorted|"
    "objected|objects|protested|protests|charged|charges|boasted|boasts|conceded|assured|assures|cautioned|cautions|"
    "estimated|estimates|reported|reports|described|describes|dismissed|dismisses|called|calls|put it|shot back|"
    "went on|continued|concluded|concludes|wrote back|tweeted|posted|found|finds|reckons|reckoned|disputes|disputed|"
    "pointed to|points to|raised|is asking for|are asking for|demanded|demands|"
    "saying|insisting|arguing|claiming|warning|adding|noting|stressing|complaining|accusing|blaming|denying|calling|"
    "explaining|declaring|asserting|suggesting|promising|admitting|acknowledging|contending|maintaining"
)
CUE = re.compile(rf"\b({CUE_VERBS})\b", re.IGNORECASE)
ACCORDING = re.compile(r"\baccording to\s+([^,.;:“”\"]+)", re.IGNORECASE)
CONTENT_VERBS = (
    "suggests?|suggested|indicates?|indicated|says|said|holds?|held|claims?|claimed|maintains?|maintained|blames?|blamed|"
    "puts? it|has it|had it|goes|went|runs|ran|insists?|insisted|portrays?|portrayed|paints?|painted|presents?|presented|"
    "describes?|described|asserts?|asserted|states?|stated|argues?|argued|implies|implied|contends?|contended|casts?|"
    "depicts?|depicted|points?|pointed|attributes?|attributed|is that|was that"
)
ACCOUNT_NOUNS = r"version|account|claim|claims|story|narrative|telling|explanation|line|position|figures|numbers|case|argument|statement"
PRONOUN_SUBJECT = re.compile(r"(?:^|[,;:—–-]\s*|\band\s+)(he|she|they)\s+(?:\w+ly\s+|also\s+|then\s+|later\s+)?$", re.IGNORECASE)
CLAUSE_PRONOUN = re.compile(r"^\s*(?:(?:but|and|yet|later|then|still)\s*,?\s+)?(he|she|they)\s+(?:\w+ly\s+|also\s+|then\s+|later\s+|went further,\s+|was\s+\w+\s*$)?$", re.IGNORECASE)
PREPOSITIONS = {"to", "of", "with", "by", "for", "against", "from", "at", "on", "about", "toward", "towards", "over", "than", "into", "between", "after", "before", "like", "as"}
GENERIC_SOURCES = {
    "reports", "report", "media", "press", "newspaper", "newspapers", "analysts", "analyst", "experts", "expert", "observers",
    "commentators", "scholars", "researchers", "critics", "polls", "poll", "economists", "economist", "diplomats",
    "sources", "survey", "surveys", "study", "studies", "data", "figures", "records", "documents", "witnesses", "residents",
}
AUTHOR_MARKERS = re.compile(r"\b(I|my|me|this writer|in my view|we should|in our view|to my mind|in the view of this writer)\b")
QUOTE_CHARS = "“”\""


@dataclass
class Attribution:
    source: str = "author"
    source_side: str | None = None
    cue: str | None = None
    form: str | None = None

    @property
    def is_author(self) -> bool:
        return self.source == "author"


def _quoted_spans(text: str) -> list[tuple[int, int]]:
    """Character spans inside quotation marks (curly pairs, or straight pairs)."""
    spans = [(m.start(), m.end()) for m in re.finditer(r"“[^”]*”?|^[^“”]*”", text)]
    spans += [(m.start(), m.end()) for m in re.finditer(r"\"[^\"]*\"?", text)]
    return spans


def _words(s: str) -> int:
    return len(re.findall(r"[\w’']+", s))


def _inside(pos: int, spans: list[tuple[int, int]]) -> bool:
    return any(a <= pos < b for a, b in spans)


NOT_REPORTED = re.compile(r"\b(not|n't|never|should|must|would|could|might|to|yet to|was|were|is|are|been|be|being)\s+(?:\w+ly\s+|also\s+)?$", re.IGNORECASE)


def _is_cue_use(text: str, m: re.Match) -> bool:
    """A cue-verb match that reports speech: lower-case (not "United States"),
    not negated or modal ("has not explained", "should say"), not passive
    ("was asked"), not a relative clause ("which the side describes as")."""
    word = m.group(1)
    if not word.islower() and m.start() > 0:
        return False
    before = text[:m.start()]
    if NOT_REPORTED.search(before):
        return False
    if re.search(r"\b(which|what|whom)\s+(?:[\w’'-]+\s+){1,4}$", before, re.IGNORECASE):
        return False
    if re.match(r"^\s*(nobody|no one|none|neither|no)\b", before, re.IGNORECASE):
        return False
    return True


def _subject_before(dispute: Dispute, text: str, end: int, spans, last_speaker) -> tuple[str, str, bool] | None:
    """The speaker of a cue at ``end``: the last non-possessive mention before it
    that is not the object of a preposition, else a pronoun (last speaker), else
    a generic source noun phrase (third party)."""
    pre = text[:end]
    clause_start = max(pre.rfind(";"), pre.rfind("”"), pre.rfind("“"))
    best = None
    for start, stop, canon, side, body in dispute.find(pre):
        if start < clause_start or _inside(start, spans):
            continue
        after = text[stop:stop + 2]
        if after.startswith(("’s", "'s", "’", "'")):
            continue
        before_words = re.findall(r"[A-Za-z]+", text[max(0, start - 25):start])
        sentence_initial_as = re.match(r"^\s*as\s+(the\s+)?$", text[:start], re.IGNORECASE)
        if before_words and before_words[-1].lower() in PREPOSITIONS and not sentence_initial_as:
            continue
        lead = text[:start]
        if re.search(r"\b(that|whether|remember|remembers|recall that)\b", lead, re.IGNORECASE) and not re.search(r"[“\"]", lead):
            return None  # the attribution sits inside the author's own clause
        best = (canon, side, body)
    if best:
        return best
    clause = pre[clause_start + 1:]
    if last_speaker and (PRONOUN_SUBJECT.search(pre) or CLAUSE_PRONOUN.match(clause)):
        return last_speaker
    # an unknown named or generic subject at the clause start: a third party
    subj = re.sub(r"^(however|but|yet|and|meanwhile|still|moreover|also|indeed)[, ]+", "", pre[clause_start + 1:].strip(" ,"), flags=re.IGNORECASE)
    subj = subj.strip(" ,")
    words = subj.split()
    if 1 <= len(words) <= 8 and not re.search(r"\b(that|it|this|which|who|there)\b", subj, re.IGNORECASE):
        head = re.sub(r"[^\w]", "", words[-1]).lower()
        if head in GENERIC_SOURCES or (words[0][:1].isupper() and any(w[:1].isupper() for w in words[1:] if w.lower() not in {"the", "a"})):
            return (re.sub(r"^(the|a)\s+", "", subj, flags=re.IGNORECASE), "other", False)
    return None


def _np_source(dispute: Dispute, np: str) -> tuple[str, str, bool]:
    """Resolve the noun phrase after "according to"."""
    np = np.strip()
    words = re.findall(r"[A-Za-z]+", np)
    generic = words and words[-1].lower() in GENERIC_SOURCES
    hit = dispute.resolve(np)
    if hit and not generic:
        return hit
    mentions = dispute.find(np)
    if mentions and not generic:
        _, _, canon, side, body = mentions[0]
        return canon, side, body
    return re.sub(r"^(the|a)\s+", "", np, flags=re.IGNORECASE), "other", False


def _speaker_of_quote(dispute: Dispute, text: str, spans, last_speaker):
    """(speaker, cue) for a sentence holding a direct quote, or None."""
    outside = [(0, spans[0][0])] + [(spans[i][1], spans[i + 1][0]) for i in range(len(spans) - 1)] + [(spans[-1][1], len(text))]
    # cue after the quote: ”, Lind said. / ”, said Lind. / " — Lind
    for a, b in outside[1:]:
        seg = text[a:b]
        m = re.match(rf"^[\s,]*(?:[—–-]\s*)?(?:({CUE_VERBS})\s+)?(.{{0,80}}?)(?:\s+({CUE_VERBS}))?\b", seg, re.IGNORECASE)
        ments = [x for x in dispute.find(seg) if x[0] < 60]
        cue_m = CUE.search(seg[:80])
        if ments and (cue_m or re.match(r"^[\s,]*[—–-]", seg)):
            _, _, canon, side, body = ments[0]
            return (canon, side, body), (cue_m.group(1) if cue_m else "—")
        if cue_m and last_speaker and re.match(r"^[\s,]*(he|she|they)\s", seg, re.IGNORECASE):
            return last_speaker, cue_m.group(1)
        if cue_m and m and cue_m.start() < 40:
            sub = _subject_before(dispute, seg, cue_m.start(), [], last_speaker)
            if sub:
                return sub, cue_m.group(1)
    # cue before the quote: Lind said, “... / The minister was blunt: “... / Lind — “...
    a, b = outside[0]
    pre = text[a:b]
    cues = [m for m in CUE.finditer(pre)]
    if cues:
        cue = cues[-1]
        sub = _subject_before(dispute, pre, cue.start(), [], last_speaker)
        if sub:
            return sub, cue.group(1)
    stripped = pre.rstrip()
    if stripped.endswith((":", "—", "–", "-", ",")):
        sub = _subject_before(dispute, stripped, len(stripped), [], last_speaker)
        mark = stripped[-1]
        if sub:
            return sub, ":" if mark == ":" else ("—" if mark in "—–-" else None)
    return None


EVALUATIVE = re.compile(
    r"\b(should|ought|must not|perhaps|of course|welcome|fair|unfair|right about|is right|was right|hard to|easy to|tidy|hollow|"
    r"worth|deserves?|entitled|sceptical|skeptical|convenient|remarkabl[ey]|clearly|plainly|in fact|indeed|however|"
    r"has not|have not|had not|did not|does not|do not)\b|^(that|this|it|but|and yet|still|so)\b",
    re.IGNORECASE,
)


def _continues(prev: "Attribution", text: str) -> bool:
    """Whether a cue-less sentence carries on the previous sentence's reported speech.

    Only indirect speech (or a continuation of it) is carried on: after a
    closed direct quote, the next plain sentence is usually the author's
    comment. Sentences with the author's evaluative or narrative markers
    ("should", "has not", "That is ...") stay with the author.
    """
    if prev.form not in ("indirect", "continuation") or prev.cue == "according to" or prev.source_side == "other" and prev.form == "continuation":
        return False
    if AUTHOR_MARKERS.search(text) or text.rstrip().endswith("?") or EVALUATIVE.search(text):
        return False
    return True


def attribute_passages(texts: list[str], paragraphs: list[int], dispute: Dispute) -> list[Attribution]:
    """Attribute the body passages of one article, in order.

    Args:
        texts: passage texts (body passages only, page order).
        paragraphs: the paragraph number of each passage.
        dispute: sides, aliases and actors used to resolve speakers.

    Returns:
        One :class:`Attribution` per passage.
    """
    out: list[Attribution] = []
    last_speaker = None
    open_quote_from: Attribution | None = None  # a quotation still open from the previous sentence
    for i, text in enumerate(texts):
        spans = _quoted_spans(text)
        long_spans = [s for s in spans if _words(text[s[0]:s[1]]) >= 4]
        att = None
        # 1. a quotation that began in an earlier sentence of the paragraph
        if open_quote_from is not None and i > 0 and paragraphs[i] == paragraphs[i - 1]:
            att = Attribution(open_quote_from.source, open_quote_from.source_side, open_quote_from.cue, "direct")
        # 2. a direct quote with its speaker
        if att is None and long_spans:
            found = _speaker_of_quote(dispute, text, long_spans, last_speaker)
            if found:
                (canon, side, _), cue = found
                att = Attribution(canon, side, cue, "direct")
            elif text.lstrip()[:1] in "“\"" and out and paragraphs[i] == paragraphs[i - 1] and out[-1].form == "direct":
                prev = out[-1]
                att = Attribution(prev.source, prev.source_side, prev.cue, "direct")
        # 3. a side's account paraphrased by the author ("Trump's version suggests that ...")
        if att is None and not AUTHOR_MARKERS.search(text):
            for start, stop, canon, side, body in dispute.find(text):
                tail = text[stop:stop + 80]
                m = re.match(rf"^(?:’s|'s)?\s+(?:own\s+|latest\s+|official\s+)?({ACCOUNT_NOUNS})\b(?:\s+(?:of|for)\s+[^,.;]{{0,40}}?)?(?:,[^,]{{1,25}},)?\s+(?:\w+ly\s+)?(?:(?:seems|appears|seemed|appeared)\s+to\s+)?({CONTENT_VERBS})\b", tail)
                lead = re.match(rf"^(?:in|by)\s+(?:the\s+)?$", text[:start], re.IGNORECASE)
                in_m = re.match(rf"^(?:’s|'s)\s+(?:own\s+)?({ACCOUNT_NOUNS})\s*,", tail) if lead else None
                if m and not _inside(start, spans):
                    att = Attribution(canon, side, f"{m.group(1)} ... {m.group(2)}", "account")
                    break
                if in_m and not _inside(start, spans):
                    att = Attribution(canon, side, f"{text[:start].strip().lower()} ... {in_m.group(1)}", "account")
                    break
        # 4. "according to X"
        if att is None:
            m = ACCORDING.search(text)
            if m and not _inside(m.start(), spans):
                canon, side, _ = _np_source(dispute, m.group(1))
                att = Attribution(canon, side, "according to", "indirect")
        # 5. reported speech: a cue verb and its subject
        if att is None:
            for m in CUE.finditer(text):
                if _inside(m.start(), spans) or not _is_cue_use(text, m):
                    continue
                sub = _subject_before(dispute, text, m.start(), spans, last_speaker)
                if sub:
                    att = Attribution(sub[0], sub[1], m.group(1), "indirect")
                    break
        # 6. reported speech continued without a cue
        if att is None and out and paragraphs[i] == paragraphs[i - 1]:
            prev = out[-1]
            if _continues(prev, text):
                att = Attribution(prev.source, prev.source_side, prev.cue if prev.form == "continuation" else None, "continuation")
        att = att or Attribution()
        if att.form == "continuation":
            att.cue = None
        out.append(att)
        if not att.is_author and att.source_side != "other":
            last_speaker = (att.source, att.source_side, False)
        # track quotations left open at the end of this sentence
        curly_open = text.count("“") > text.count("”")
        straight_open = text.count('"') % 2 == 1 and (open_quote_from is None)
        if (curly_open or straight_open) and not att.is_author:
            open_quote_from = att
        elif open_quote_from is not None and ("”" in text or text.count('"') % 2 == 1):
            open_quote_from = None
    return out
