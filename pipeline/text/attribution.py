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
# the no-dispute mode reads news, where attribution also covers beliefs, findings and intentions (PolNeAR's notion)
OPEN_CUE_VERBS = (
    CUE_VERBS + "|show|shows|showed|showing|indicate|indicates|indicated|indicating|declined|believe|believes|believed|"
    "think|thinks|thought|want|wants|wanted|hope|hopes|hoped|agree|agrees|agreed|questioned|questions|praised|praises|"
    "blasted|blasts|criticized|criticizes|criticised|attacked|attacks|slammed|slams|proposed|proposes|pledged|pledges|"
    "repeated|repeats|expects|expected|fears|feared|worried|knew|knows|know|felt|feels|recommended|endorsed|endorses|"
    "backed|called on|sought|seeks|plans|planned|invoked|invokes|say|tell|telling|told|explain|ask|asking|claim|"
    "describe|deny|denying|insist|argue|warn|predicted|acknowledge|allege|accuse|telling|informed|informing|questioning|"
    "described|calling for|called for|calls for|urging|vowing|pledging|referring to|referred to|refers to|mocked|mocks|"
    "defended|defends|touted|touts|hailed|hails|decried|decries|condemned|condemns|lamented|laments|joked|jokes|quipped|"
    "interjected|recounted|recounts|explained|shouted|yelled|chanted|stated|testified|disclosed|discloses|highlighted"
)
OPEN_CUE = re.compile(rf"\b({OPEN_CUE_VERBS})\b", re.IGNORECASE)
ACCORDING = re.compile(
    r"\baccording to\s+((?:(?:mr|mrs|ms|dr|gen|col|prof|sen|rep|gov|st)\.\s+)?[^,.;:“”\"]+)", re.IGNORECASE
)
CONTENT_VERBS = (
    "suggests?|suggested|indicates?|indicated|says|said|holds?|held|claims?|claimed|maintains?|maintained|blames?|blamed|"
    "puts? it|has it|had it|goes|went|runs|ran|insists?|insisted|portrays?|portrayed|paints?|painted|"
    "presents?|presented|"
    "describes?|described|asserts?|asserted|states?|stated|argues?|argued|implies|implied|contends?|contended|casts?|"
    "depicts?|depicted|points?|pointed|attributes?|attributed|is that|was that"
)
ACCOUNT_NOUNS = (
    r"version|account|claim|claims|story|narrative|telling|explanation|line|position|figures|numbers|case|"
    r"argument|statement"
)
PRONOUN_SUBJECT = re.compile(
    r"(?:^|[,;:—–-]\s*|\band\s+)(he|she|they)\s+(?:\w+ly\s+|also\s+|then\s+|later\s+)?$", re.IGNORECASE
)
CLAUSE_PRONOUN = re.compile(
    r"^\s*(?:(?:but|and|yet|later|then|still)\s*,?\s+)?(he|she|they)\s+"
    r"(?:\w+ly\s+|also\s+|then\s+|later\s+|went further,\s+|was\s+\w+\s*$)?$",
    re.IGNORECASE,
)
PREPOSITIONS = {
    "to",
    "of",
    "with",
    "by",
    "for",
    "against",
    "from",
    "at",
    "on",
    "about",
    "toward",
    "towards",
    "over",
    "than",
    "into",
    "between",
    "after",
    "before",
    "like",
    "as",
}
GENERIC_SOURCES = {
    "reports",
    "report",
    "media",
    "press",
    "newspaper",
    "newspapers",
    "analysts",
    "analyst",
    "experts",
    "expert",
    "observers",
    "commentators",
    "scholars",
    "researchers",
    "critics",
    "polls",
    "poll",
    "economists",
    "economist",
    "diplomats",
    "sources",
    "survey",
    "surveys",
    "study",
    "studies",
    "data",
    "figures",
    "records",
    "documents",
    "witnesses",
    "residents",
}
AUTHOR_MARKERS = re.compile(
    r"\b(I|my|me|this writer|in my view|we should|in our view|to my mind|in the view of this writer)\b"
)


@dataclass
class Attribution:
    """Whose claim a passage carries.

    ``source_span`` and ``cue_span`` are ``(start, end)`` character offsets in
    the passage text of the words that name the source and of the cue; None
    where the passage does not contain them (author voice, a continuation, a
    quotation carried over from the previous sentence, a speaker found only
    through the previous sentence).
    """

    source: str = "author"
    source_side: str | None = None
    cue: str | None = None
    form: str | None = None
    source_span: tuple[int, int] | None = None
    cue_span: tuple[int, int] | None = None

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


NOT_REPORTED = re.compile(
    r"\b(not|n't|never|should|must|would|could|might|to|yet to|was|were|is|are|been|be|being)\s+(?:\w+ly\s+|also\s+)?$",
    re.IGNORECASE,
)


def _is_cue_use(text: str, m: re.Match) -> bool:
    """A cue-verb match that reports speech: lower-case (not "United States"),
    not negated or modal ("has not explained", "should say"), not passive
    ("was asked"), not a relative clause ("which the side describes as")."""
    word = m.group(1)
    if not word.islower() and m.start() > 0:
        return False
    before = text[: m.start()]
    if NOT_REPORTED.search(before):
        return False
    if re.search(r"\b(which|what|whom)\s+(?:[\w’'-]+\s+){1,4}$", before, re.IGNORECASE):
        return False
    if re.match(r"^\s*(nobody|no one|none|neither|no)\b", before, re.IGNORECASE):
        return False
    return True


class _NoDispute:
    """The no-dispute mode: no configured names, so speakers come from the text
    itself (named or generic noun phrases, pronouns)."""

    sides: dict = {}

    def find(self, text: str) -> list:
        return []

    def resolve(self, mention: str) -> None:
        return None


_NO_DISPUTE = _NoDispute()
# words that end a subject noun phrase when read backwards from the cue
NP_STOP = {
    "that",
    "which",
    "whom",
    "whose",
    "when",
    "while",
    "as",
    "because",
    "if",
    "and",
    "but",
    "or",
    "nor",
    "so",
    "than",
    "then",
    "after",
    "before",
    "since",
    "though",
    "although",
    "where",
    "what",
    "whether",
    "in",
    "on",
    "at",
    "to",
    "with",
    "by",
    "from",
    "into",
    "about",
    "over",
    "under",
    "through",
    "during",
    "against",
    "is",
    "was",
    "are",
    "were",
    "be",
    "been",
    "being",
    "has",
    "have",
    "had",
    "do",
    "does",
    "did",
    "will",
    "would",
    "can",
    "could",
    "should",
    "may",
    "might",
    "must",
    "not",
    "also",
    "even",
    "still",
    "just",
    "only",
    "now",
    "there",
    "here",
    "this",
    "these",
    "those",
    "such",
    "like",
    "more",
    "most",
    "very",
    "too",
    "how",
    "why",
    "once",
    "ago",
    "last",
    "yesterday",
    "today",
    "recently",
    "later",
    "already",
    "again",
    "however",
    "meanwhile",
    "instead",
    "said",
    "says",
    "say",
    "told",
    "tells",
    "wrote",
    "writes",
}
NP_JOIN = {"of", "for", "at"}  # inside a noun phrase: "a spokesman for the campaign", "a professor at Yale"
DETERMINERS = {
    "the",
    "a",
    "an",
    "his",
    "her",
    "their",
    "its",
    "our",
    "my",
    "your",
    "some",
    "many",
    "several",
    "two",
    "three",
    "both",
    "most",
    "other",
    "another",
    "one",
    "few",
    "all",
    "no",
}
PRONOUNS = {"he", "she", "they", "it", "we", "i", "you", "who", "which"}
AUX_TAIL = re.compile(
    r"(?:\s+(?:has|have|had|also|then|later|again|once|publicly|privately|repeatedly|previously|recently|frequently|often|never|already|would|will|did|does|do|may|might|could|can|\w+ly))*\s*$",
    re.IGNORECASE,
)


def _open_subject(pre: str, floor: int) -> tuple[str, tuple[int, int]] | None:
    """The noun phrase that ends right before a cue (no-dispute mode): read
    words backwards from the end of ``pre`` (after dropping auxiliaries and
    adverbs) until a clause boundary, a function word or ``floor``."""
    tail = AUX_TAIL.search(pre)
    end = tail.start() if tail else len(pre)
    toks = [m for m in re.finditer(r"[A-Za-z0-9][\w.&’'-]*", pre[:end]) if m.start() >= floor]
    if not toks or toks[-1].end() != end:
        return None
    last = toks[-1].group(0).lower()
    if last in PRONOUNS:
        return toks[-1].group(0), (toks[-1].start(), toks[-1].end())
    if last in NP_STOP or last in NP_JOIN or last in DETERMINERS:
        return None
    start = toks[-1].start()
    i = len(toks) - 2
    while i >= 0:
        t, nxt = toks[i], toks[i + 1]
        gap = pre[t.end() : nxt.start()]
        if gap.strip() not in ("",):
            break
        w = t.group(0).lower()
        if w in NP_JOIN and i > 0 and not pre[toks[i - 1].end() : t.start()].strip():
            start = t.start()
            i -= 1
            continue
        if w in NP_STOP or w in PRONOUNS:
            break
        start = t.start()
        if w in DETERMINERS and not (
            i >= 2 and toks[i - 1].group(0).lower() in NP_JOIN and not pre[toks[i - 1].end() : t.start()].strip()
        ):
            # a determiner opens the phrase, unless a joiner links it to a head before ("officials at the ministry")
            break
        i -= 1
    # a noun phrase opened by a joiner is not one ("of the party said")
    phrase = pre[start:end]
    if phrase.split()[0].lower() in NP_JOIN or len(phrase.split()) > 8:
        return None
    first = phrase.split()[0]
    # a lower-case phrase with no determiner is usually a verb phrase, unless its head is a source noun
    head = re.sub(r"[^\w]", "", phrase.split()[-1]).lower()
    if not (first[:1].isupper() or first.lower() in DETERMINERS or head in GENERIC_SOURCES or head in SOURCE_NOUNS):
        return None
    return phrase, (start, end)


SOURCE_NOUNS = {
    "officials",
    "official",
    "spokesman",
    "spokeswoman",
    "spokesperson",
    "aides",
    "aide",
    "advisers",
    "adviser",
    "advisors",
    "campaign",
    "supporters",
    "voters",
    "people",
    "democrats",
    "republicans",
    "leaders",
    "lawmakers",
    "members",
    "staff",
    "statement",
    "letter",
    "memo",
    "email",
    "emails",
    "tweet",
    "post",
    "article",
    "editorial",
    "ad",
    "polls",
    "poll",
    "prosecutors",
    "investigators",
    "authorities",
    "police",
    "agency",
    "department",
    "committee",
    "group",
    "organization",
}


def _subject_before(
    dispute: Dispute, text: str, end: int, spans, last_speaker
) -> tuple[str, str | None, bool, tuple[int, int] | None] | None:
    """The speaker of a cue at ``end``: the last non-possessive mention before it
    that is not the object of a preposition, else a pronoun (last speaker), else
    a generic source noun phrase (third party). In the no-dispute mode a subject
    noun phrase or pronoun in the cue's clause is the source.

    Returns:
        ``(source, side, is_side_as_body, span of the source words in text)``.
    """
    open_mode = isinstance(dispute, _NoDispute)
    pre = text[:end]
    clause_start = max(pre.rfind(";"), pre.rfind("”"), pre.rfind("“"))
    best = None
    for start, stop, canon, side, body in dispute.find(pre):
        if start < clause_start or _inside(start, spans):
            continue
        after = text[stop : stop + 2]
        if after.startswith(("’s", "'s", "’", "'")):
            continue
        before_words = re.findall(r"[A-Za-z]+", text[max(0, start - 25) : start])
        sentence_initial_as = re.match(r"^\s*as\s+(the\s+)?$", text[:start], re.IGNORECASE)
        if before_words and before_words[-1].lower() in PREPOSITIONS and not sentence_initial_as:
            continue
        lead = text[:start]
        if re.search(r"\b(that|whether|remember|remembers|recall that)\b", lead, re.IGNORECASE) and not re.search(
            r"[“\"]", lead
        ):
            return None  # the attribution sits inside the author's own clause
        best = (canon, side, body, (start, stop))
    if best:
        return best
    clause = pre[clause_start + 1 :]
    pm = PRONOUN_SUBJECT.search(pre)
    cm = None if pm else CLAUSE_PRONOUN.match(clause)
    if pm or cm:
        span = (pm.start(1), pm.end(1)) if pm else (clause_start + 1 + cm.start(1), clause_start + 1 + cm.end(1))
        if last_speaker:
            return (*last_speaker[:3], span)
        if open_mode:
            return (text[span[0] : span[1]], None, False, span)
    if open_mode:
        found = _open_subject(pre, clause_start + 1)
        if found:
            phrase, span = found
            if phrase.lower() in PRONOUNS and last_speaker:
                return (*last_speaker[:3], span)
            return (phrase, None, False, span)
        return None
    # an unknown named or generic subject at the clause start: a third party
    subj = re.sub(
        r"^(however|but|yet|and|meanwhile|still|moreover|also|indeed)[, ]+",
        "",
        pre[clause_start + 1 :].strip(" ,"),
        flags=re.IGNORECASE,
    )
    subj = subj.strip(" ,")
    words = subj.split()
    if 1 <= len(words) <= 8 and not re.search(r"\b(that|it|this|which|who|there)\b", subj, re.IGNORECASE):
        head = re.sub(r"[^\w]", "", words[-1]).lower()
        if head in GENERIC_SOURCES or (
            words[0][:1].isupper() and any(w[:1].isupper() for w in words[1:] if w.lower() not in {"the", "a"})
        ):
            at = pre.rfind(subj)
            return (re.sub(r"^(the|a)\s+", "", subj, flags=re.IGNORECASE), "other", False, (at, at + len(subj)))
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


INVERTED_NP = re.compile(
    r"\s+((?:(?:the|a|an)\s+)?(?:(?:mr|mrs|ms|dr|gen|sen|rep|gov|prof|st|lt|col)\.\s+)?(?:[\w’'&-]+\.?\s+){0,5}?[\w’'&-]+)(?=\s*(?:[,.;:!?]|$|\s+(?:in|on|at|during|who|after|before|when|to|of)\b))"
)


def _shift(span: tuple[int, int] | None, by: int) -> tuple[int, int] | None:
    return (span[0] + by, span[1] + by) if span else None


def _speaker_of_quote(dispute: Dispute, text: str, spans, last_speaker):
    """``(speaker, cue, cue span)`` for a sentence holding a direct quote, or None;
    the speaker is ``(source, side, is_body, source span)``, spans in ``text``."""
    open_mode = isinstance(dispute, _NoDispute)
    outside = (
        [(0, spans[0][0])]
        + [(spans[i][1], spans[i + 1][0]) for i in range(len(spans) - 1)]
        + [(spans[-1][1], len(text))]
    )
    # cue after the quote: ”, Lind said. / ”, said Lind. / " — Lind
    for a, b in outside[1:]:
        seg = text[a:b]
        m = re.match(
            rf"^[\s,]*(?:[—–-]\s*)?(?:({CUE_VERBS})\s+)?(.{{0,80}}?)(?:\s+({CUE_VERBS}))?\b", seg, re.IGNORECASE
        )
        ments = [x for x in dispute.find(seg) if x[0] < 60]
        cue_m = CUE.search(seg[:80])
        if open_mode and cue_m and not cue_m.group(1).islower():
            cue_m = None  # "the United States", "Said" in a headline
        dash = re.match(r"^[\s,]*([—–-])", seg)
        if ments and (cue_m or dash):
            start, stop, canon, side, body = ments[0]
            cue_span = (a + cue_m.start(1), a + cue_m.end(1)) if cue_m else (a + dash.start(1), a + dash.end(1))
            return (canon, side, body, (a + start, a + stop)), (cue_m.group(1) if cue_m else "—"), cue_span
        pron = re.match(r"^[\s,]*(he|she|they)\s", seg, re.IGNORECASE)
        if cue_m and last_speaker and pron:
            return (
                (*last_speaker[:3], (a + pron.start(1), a + pron.end(1))),
                cue_m.group(1),
                (a + cue_m.start(1), a + cue_m.end(1)),
            )
        if open_mode and cue_m and re.fullmatch(r"[\s,—–-]*", seg[: cue_m.start()]):
            # inverted: ”, said Mr. Lind. / ”, says the report.
            inv = INVERTED_NP.match(seg, cue_m.end())
            if inv and inv.group(1).split()[0].lower() not in NP_STOP | PRONOUNS | {"that"}:
                return (
                    (inv.group(1), None, False, (a + inv.start(1), a + inv.end(1))),
                    cue_m.group(1),
                    (a + cue_m.start(1), a + cue_m.end(1)),
                )
        if cue_m and m and cue_m.start() < 40:
            sub = _subject_before(dispute, seg, cue_m.start(), [], last_speaker)
            if sub:
                return (*sub[:3], _shift(sub[3], a)), cue_m.group(1), (a + cue_m.start(1), a + cue_m.end(1))
    # cue before the quote: Lind said, “... / The minister was blunt: “... / Lind — “...
    a, b = outside[0]
    pre = text[a:b]
    cues = [m for m in CUE.finditer(pre)]
    if cues:
        cue = cues[-1]
        sub = _subject_before(dispute, pre, cue.start(), [], last_speaker)
        if sub:
            return (*sub[:3], _shift(sub[3], a)), cue.group(1), (a + cue.start(1), a + cue.end(1))
    stripped = pre.rstrip()
    if stripped.endswith((":", "—", "–", "-", ",")):
        sub = _subject_before(dispute, stripped, len(stripped), [], last_speaker)
        mark = stripped[-1]
        if sub:
            cue = ":" if mark == ":" else ("—" if mark in "—–-" else None)
            return (*sub[:3], _shift(sub[3], a)), cue, ((a + len(stripped) - 1, a + len(stripped)) if cue else None)
    return None


EVALUATIVE = re.compile(
    r"\b(should|ought|must not|perhaps|of course|welcome|fair|unfair|right about|is right|was right|hard to|easy to|"
    r"tidy|hollow|"
    r"worth|deserves?|entitled|sceptical|skeptical|convenient|remarkabl[ey]|clearly|plainly|in fact|indeed|however|"
    r"has not|have not|had not|did not|does not|do not)\b|^(that|this|it|but|and yet|still|so)\b",
    re.IGNORECASE,
)


def _continues(prev: Attribution, text: str) -> bool:
    """Whether a cue-less sentence carries on the previous sentence's reported speech.

    Only indirect speech (or a continuation of it) is carried on: after a
    closed direct quote, the next plain sentence is usually the author's
    comment. Sentences with the author's evaluative or narrative markers
    ("should", "has not", "That is ...") stay with the author.
    """
    if (
        prev.form not in ("indirect", "continuation")
        or prev.cue == "according to"
        or prev.source_side == "other"
        and prev.form == "continuation"
    ):
        return False
    if AUTHOR_MARKERS.search(text) or text.rstrip().endswith("?") or EVALUATIVE.search(text):
        return False
    return True


CUE_AUX = re.compile(r"(?:\b(?:has|have|had|also|has also|have also|had also|later|again)\s+)+$", re.IGNORECASE)


def widen_cue(text: str, span: tuple[int, int]) -> tuple[int, int]:
    """Grow a cue span back over its auxiliaries ("has denied", "also said"), as PolNeAR marks cues."""
    m = CUE_AUX.search(text[: span[0]])
    return (m.start(), span[1]) if m else span


def more_attributions(text: str, att: Attribution) -> list[tuple[tuple[int, int] | None, tuple[int, int]]]:
    """Further ``(source span, cue span)`` pairs in one passage beyond ``att``
    (no-dispute mode): a participle cue sharing the main source ("wrote,
    adding ...") has no source span of its own; a later finite cue gets its
    subject noun phrase. Cues inside quotations are skipped."""
    spans = _quoted_spans(text)
    out = []
    for m in OPEN_CUE.finditer(text):
        cue = (m.start(1), m.end(1))
        if att.cue_span and cue[0] < att.cue_span[1] or _inside(m.start(), spans) or not _is_cue_use(text, m):
            continue
        if m.group(1).endswith("ing"):
            if att.cue_span and re.search(r"[,;—–]\s*(?:\w+ly\s+)?$", text[: m.start()]):
                out.append((None, cue))
            continue
        sub = _subject_before(_NO_DISPUTE, text, m.start(), spans, None)
        if sub and sub[3] and (not att.source_span or sub[3][0] >= att.cue_span[1]):
            out.append((sub[3], widen_cue(text, cue)))
    return out


def attribute_passages(texts: list[str], paragraphs: list[int], dispute: Dispute | None) -> list[Attribution]:
    """Attribute the body passages of one article, in order.

    Args:
        texts: passage texts (body passages only, page order).
        paragraphs: the paragraph number of each passage.
        dispute: sides, aliases and actors used to resolve speakers. None (or a
            dispute without sides) is the no-dispute mode: speakers come from
            the text itself (the subject noun phrase or pronoun of the cue, the
            noun phrase after "according to" or an inverted "said X"), the
            source is that phrase (or, for a pronoun, the last named speaker)
            and ``source_side`` is None.

    Returns:
        One :class:`Attribution` per passage, with the source and cue spans
        where the passage contains them.
    """
    open_mode = dispute is None or not dispute.sides
    if open_mode:
        dispute = _NO_DISPUTE
    out: list[Attribution] = []
    last_speaker = None
    open_quote_from: Attribution | None = None  # a quotation still open from the previous sentence
    for i, text in enumerate(texts):
        spans = _quoted_spans(text)
        long_spans = [s for s in spans if _words(text[s[0] : s[1]]) >= 4]
        att = None
        # 1. a quotation that began in an earlier sentence of the paragraph
        if open_quote_from is not None and i > 0 and paragraphs[i] == paragraphs[i - 1]:
            att = Attribution(open_quote_from.source, open_quote_from.source_side, open_quote_from.cue, "direct")
        # 2. a direct quote with its speaker
        if att is None and long_spans:
            found = _speaker_of_quote(dispute, text, long_spans, last_speaker)
            if found:
                (canon, side, _, source_span), cue, cue_span = found
                att = Attribution(canon, side, cue, "direct", source_span, cue_span)
            elif text.lstrip()[:1] in '“"' and out and paragraphs[i] == paragraphs[i - 1] and out[-1].form == "direct":
                prev = out[-1]
                att = Attribution(prev.source, prev.source_side, prev.cue, "direct")
        # 3. a side's account paraphrased by the author ("Trump's version suggests that ...")
        if att is None and not AUTHOR_MARKERS.search(text):
            for start, stop, canon, side, body in dispute.find(text):
                tail = text[stop : stop + 80]
                m = re.match(
                    rf"^(?:’s|'s)?\s+(?:own\s+|latest\s+|official\s+)?({ACCOUNT_NOUNS})\b(?:\s+(?:of|for)\s+[^,.;]{{0,40}}?)?(?:,[^,]{{1,25}},)?\s+(?:\w+ly\s+)?({CONTENT_VERBS})\b",
                    tail,
                )
                lead = re.match(r"^(?:in|by)\s+(?:the\s+)?$", text[:start], re.IGNORECASE)
                in_m = re.match(rf"^(?:’s|'s)\s+(?:own\s+)?({ACCOUNT_NOUNS})\s*,", tail) if lead else None
                if m and not _inside(start, spans):
                    att = Attribution(
                        canon,
                        side,
                        f"{m.group(1)} ... {m.group(2)}",
                        "account",
                        (start, stop),
                        (stop + m.start(1), stop + m.end(2)),
                    )
                    break
                if in_m and not _inside(start, spans):
                    att = Attribution(
                        canon,
                        side,
                        f"{text[:start].strip().lower()} ... {in_m.group(1)}",
                        "account",
                        (start, stop),
                        (0, stop + in_m.end(1)),
                    )
                    break
        # 4. "according to X"
        if att is None:
            m = ACCORDING.search(text)
            if m and not _inside(m.start(), spans):
                canon, side, _ = _np_source(dispute, m.group(1))
                np_start = m.start(1) + len(m.group(1)) - len(m.group(1).lstrip())
                np_span = (np_start, m.start(1) + len(m.group(1).rstrip()))
                att = Attribution(
                    canon, side, "according to", "indirect", np_span, (m.start(), m.start() + len("according to"))
                )
        # 5. reported speech: a cue verb and its subject
        if att is None:
            for m in (OPEN_CUE if open_mode else CUE).finditer(text):
                if _inside(m.start(), spans) or not _is_cue_use(text, m):
                    continue
                sub = _subject_before(dispute, text, m.start(), spans, last_speaker)
                if sub:
                    att = Attribution(sub[0], sub[1], m.group(1), "indirect", sub[3], (m.start(1), m.end(1)))
                    break
        # 6. reported speech continued without a cue
        if att is None and out and paragraphs[i] == paragraphs[i - 1]:
            prev = out[-1]
            if _continues(prev, text):
                att = Attribution(
                    prev.source, prev.source_side, prev.cue if prev.form == "continuation" else None, "continuation"
                )
        att = att or Attribution()
        if att.form == "continuation":
            att.cue = None
        if open_mode and not att.is_author:
            att.source_side = None
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


PRONOUN_SOURCE = re.compile(r"^(?:he|she|him|her|they|them|it|we|i|you|my|me|our|us)$", re.IGNORECASE)
PERSON_PRONOUN = re.compile(r"^(?:he|she|him|her|i)$", re.IGNORECASE)
DESCRIPTIVE_SOURCE = re.compile(r"^(?:the|this|that|a|an|its|their|his|her)\s+", re.IGNORECASE)


def body_document(texts: list[str], paragraphs: list[int]) -> tuple[str, list[tuple[int, int]]]:
    """The body passages joined as a document (sentences of a paragraph by a space, paragraphs by a
    newline) for the attribution model, with each passage's ``(start, end)`` in it."""
    parts, offsets, pos = [], [], 0
    for i, (t, p) in enumerate(zip(texts, paragraphs)):
        if i:
            sep = " " if p == paragraphs[i - 1] else "\n"
            parts.append(sep)
            pos += len(sep)
        offsets.append((pos, pos + len(t)))
        parts.append(t)
        pos += len(t)
    return "".join(parts), offsets


def _resolve_source(dispute: Dispute, doc: str, span: tuple[int, int], speakers: list) -> tuple[str, str | None]:
    """``(source, side)`` of a source span the model found.

    A name, alias or actor in the span resolves through the dispute (an actor
    before the side it belongs to: "the union's spokeswoman, Renée Duval" is
    Duval). A pronoun ("he", "it") or a descriptive phrase that names no one
    ("the ministry", "the spokeswoman") is the nearest compatible earlier
    speaker or mention: a person for he/she, a side as a body for "it" and
    descriptive phrases, either for "they". Anything else is a third party
    named by the span itself (side ``other``).
    """
    text = doc[span[0] : span[1]].strip()
    hit = dispute.resolve(text)
    if hit:
        return hit[0], hit[1]
    found = dispute.find(text)
    if found:
        people = [m for m in found if not m[4]]
        m = people[0] if people else found[0]
        return m[2], m[3]
    pronoun = PRONOUN_SOURCE.match(text)
    descriptive = DESCRIPTIVE_SOURCE.match(text) and len(text.split()) <= 4
    if descriptive and not pronoun:
        # a role noun the dispute's aliases use ("the spokeswoman" for "the company spokeswoman"): that one actor
        head = re.sub(r"\W", "", text.split()[-1].lower())
        owners = {v[:2] for form, v in getattr(dispute, "mentions", {}).items() if head in form.split()}
        if len(owners) == 1:
            return next(iter(owners))
    if pronoun or descriptive:
        want_body = None if text.lower() in ("they", "them", "we") else not (pronoun and PERSON_PRONOUN.match(text))
        earlier = [(s, canon, side, body) for s, canon, side, body in speakers if s < span[0]]
        earlier += [(m[0], m[2], m[3], m[4]) for m in dispute.find(doc[: span[0]])]
        for _, canon, side, body in sorted(earlier, key=lambda x: -x[0]):
            if want_body is None or body == want_body or (descriptive and not pronoun):
                return canon, side
        if pronoun:
            return "author" if text.lower() in ("i", "we", "my", "me", "our", "us") else text, None
    if not dispute.sides:
        return text, None
    return re.sub(r"^(the|a)\s+", "", text, flags=re.IGNORECASE), "other"


def attribute_with_relations(
    texts: list[str],
    paragraphs: list[int],
    dispute: Dispute | None,
    relations: list,
    doc: str,
    offsets: list[tuple[int, int]],
    rules: list[Attribution] | None = None,
    min_share: float = 0.7,
    cue_counts: bool = False,
) -> tuple[list[Attribution], list[str]]:
    """Attribute body passages from the attribution model's relations (:mod:`pipeline.text.spans`).

    A passage carries a relation's claim when the relation's content covers at
    least ``min_share`` of its characters (with ``cue_counts``, also when the
    relation's cue lies in the passage and its content overlaps it): a quote
    running over several sentences or paragraphs keeps its speaker in each.
    Where the model finds no relation the passage is the author's, unless
    ``rules`` (the rule attributions of the same passages, the fallback)
    attribute it. The defaults (0.7, content only) were chosen on the corpus's
    validation articles with ``bench/attribution_share.py``: a PolNeAR
    attribution often covers part of an author's sentence ("X's denial that
    ... does not survive a look"), which a cue in the passage would hand to X.
    Counting the source and cue with the content was tried and was worse there
    (source accuracy 0.831 against 0.850 combined with the rules).

    Args:
        relations: the document's relations, offsets in ``doc``.
        doc, offsets: :func:`body_document` of the passages.

    Returns:
        ``(attributions, source_by)``: per passage, the attribution and ``model``
        or ``rules`` (who decided it).
    """
    dispute = dispute if dispute is not None and dispute.sides else _NO_DISPUTE
    open_mode = dispute is _NO_DISPUTE
    overlap = lambda a, b: max(0, min(a[1], b[1]) - max(a[0], b[0]))
    speakers: list = []  # (position, canon, side, is_body) of the speakers resolved so far
    resolved: dict[int, tuple[str, str | None]] = {}
    for k, r in sorted(enumerate(relations), key=lambda kr: kr[1].cue[0]):
        if r.source:
            resolved[k] = _resolve_source(dispute, doc, r.source, speakers)
            if resolved[k][0] != "author":
                canon, side = resolved[k]
                body = bool(dispute.resolve(canon) and dispute.resolve(canon)[2])
                speakers.append((r.source[0], canon, side, body))
    # a relation without a source ("it is expected that ...") leaves its passages to the author
    out, by = [], []
    for i, (ps, pe) in enumerate(offsets):
        best, best_score = None, 0.0
        for k, r in enumerate(relations):
            if k not in resolved or resolved[k][0] == "author":
                continue
            cover = overlap((ps, pe), r.content) / max(pe - ps, 1) if r.content else 0.0
            cue_here = ps <= r.cue[0] < pe and (r.content is None or overlap((ps, pe), r.content) > 0)
            score = cover + (1.0 if cue_here else 0.0)
            if (cover >= min_share or cue_here and cue_counts) and score > best_score:
                best, best_score = k, score
        if best is None:
            if rules is not None and not rules[i].is_author:
                out.append(rules[i])
                by.append("rules")
            else:
                out.append(Attribution())
                by.append("model")
            continue
        r = relations[best]
        canon, side = resolved[best]
        text = texts[i]
        quoted = any(_words(text[a:b]) >= 4 for a, b in _quoted_spans(text))
        inside = lambda s: s and ps <= s[0] and s[1] <= pe
        out.append(
            Attribution(
                canon,
                None if open_mode else side,
                doc[r.cue[0] : r.cue[1]],
                "direct" if quoted else ("indirect" if inside(r.cue) else "continuation"),
                (r.source[0] - ps, r.source[1] - ps) if inside(r.source) else None,
                (r.cue[0] - ps, r.cue[1] - ps) if inside(r.cue) else None,
            )
        )
        by.append("model")
    return out, by
