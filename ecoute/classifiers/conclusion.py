"""The author's final judgement: an item's sentiment leans on how it ends.

Feedback often tells a problem and then its outcome: "erreur de facturation corrigée
rapidement, merci pour le sérieux" is praise, although most of its words describe the
error. And "merci pour l'accueil, mais deux heures d'attente" is a complaint, although it
starts with thanks. The sentiment heads read the item as a whole, so both come out wrong
when the story outweighs the verdict. Here the item's probabilities are blended with those
of its concluding segment (the one after the last contrast, or the last sentence), and a
resolution or thanks cue in that conclusion moves the negative mass towards positive
when the conclusion itself does not read negative.

Cues are given for every language the shipped heads know well (fr, en, es, de, it, pt);
polite requests ("merci de me rappeler", "thanks in advance") and irony ("merci pour rien",
"thanks for nothing") are not thanks.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

#: Weight of the concluding segment against the whole item.
CONCLUSION_WEIGHT = 0.5
#: Share of the negative probability a resolution or thanks cue moves to positive.
CUE_SHIFT = 0.6
#: The same for a cue in the concluding segment itself.
ENDING_CUE_SHIFT = 0.8

_THANKS = re.compile(
    r"\b(merci|remercie|remercier|thanks?|thank\s+you|grateful|appreciated|gracias|agradezco|"
    r"agradecid[oa]|danke|dankesch[öo]n|vielen\s+dank|herzlichen\s+dank|bedanke|grazie|"
    r"obrigad[oa])\b",
    re.IGNORECASE,
)
_RESOLVED = re.compile(
    r"\b(r[ée]solu(e|s)?|r[ée]gl[ée]e?s?|corrig[ée]e?s?|r[ée]par[ée]e?s?|annul[ée]e?s?|"
    r"rembours[ée]e?s?|recr[ée]dit[ée]e?s?|dossier\s+clos|"
    r"resolved|solved|fixed\s+(it|the|my|quickly|within|in)|sorted|refunded|repaired|cancell?ed|"
    r"resuelt[oa]|solucionad[oa]|solucionaron|resolvi[óo]|arreglad[oa]|corrigieron|"
    r"devolvieron|reembolsad[oa]|anularon|"
    r"gel[öo]st|behoben|erledigt|korrigiert|repariert|erstattet|"
    r"risolt[oa]|sistemat[oa]|resolvid[oa])\b",
    re.IGNORECASE,
)
# Not thanks: requests, thanks in advance, irony.
_NOT_THANKS = re.compile(
    r"\b(merci\s+(de\s+(me|nous|bien|vouloir|faire|rappeler|r[ée]pondre)|d'avance|pour\s+rien)|"
    r"thanks?\s+(in\s+advance|for\s+nothing)|thank\s+you\s+in\s+advance|"
    r"gracias\s+(de\s+antemano|por\s+nada)|danke\s+f[üu]r\s+nichts|im\s+voraus|"
    r"grazie\s+per\s+niente|obrigad[oa]\s+por\s+nada)",
    re.IGNORECASE,
)
# The outcome came too late or not at all: a resolution word that does not praise.
_TOO_LATE = re.compile(
    r"(il\s+a\s+fallu|after\s+\w+\s+(months|weeks)|too\s+late|trop\s+tard|demasiado\s+tarde|"
    r"zu\s+sp[äa]t|au\s+bout\s+de|al\s+final|erst\s+nach|"
    r"sigue|toujours\s+pas|still|immer\s+noch|rien\s+n'est|nothing\s+has|no\s+resuelve)",
    re.IGNORECASE,
)

# A polite closing of a complaint ("... still nothing. Thank you.") is not a verdict.
_NEGATIVE_ENDING = re.compile(
    r"\b(toujours\s+pas|toujours\s+rien|aucune?\s+r[ée]ponse|jamais|inadmissible|inacceptable|"
    r"still\s+(no|not|nothing|waiting)|never|no\s+(reply|response|answer)|unacceptable|please|"
    r"todav[ií]a\s+no|sigo\s+sin|nunca|inaceptable|por\s+favor|"
    r"immer\s+noch|keine\s+(antwort|r[üu]ckmeldung)|nie|inakzeptabel|bitte|svp|s'il\s+vous)\b",
    re.IGNORECASE,
)


def has_cue(text: str) -> bool:
    """Whether ``text`` thanks or says the problem was solved (and means it)."""
    if _NOT_THANKS.search(text) or _TOO_LATE.search(text):
        return False
    return bool(_THANKS.search(text) or _RESOLVED.search(text))


def final_judgement(
    item_probs: np.ndarray, segments: Sequence[str], segment_probs: np.ndarray,
) -> np.ndarray:
    """The item's (negative, neutral, positive) probabilities, weighted towards its end."""
    probs = np.asarray(item_probs, dtype=np.float64).copy()
    if not segments:
        return probs
    last = np.asarray(segment_probs[-1], dtype=np.float64)
    if len(segments) > 1:
        probs = (1 - CONCLUSION_WEIGHT) * probs + CONCLUSION_WEIGHT * last
    # The conclusion: the last sentence, and the sentence before it when the last is only
    # a short verdict ("Merci." / "Top").
    ending = " ".join(segments[-2:]) if len(segments[-1]) < 25 else segments[-1]
    # A cue in the conclusion weighs most; a cue elsewhere ("réglé. C'est bête mais ça change
    # tout") counts when the conclusion reads not negative. Neither when the ending says it
    # came too late, nor for requests and irony.
    text = " ".join(segments)
    shift = 0.0
    if has_cue(ending) and not _NEGATIVE_ENDING.search(ending):
        shift = ENDING_CUE_SHIFT
    elif (last[2] >= last[0] and not _NOT_THANKS.search(text) and not _TOO_LATE.search(ending)
          and (_THANKS.search(text) or _RESOLVED.search(text))):
        shift = CUE_SHIFT
    moved = shift * probs[0]
    probs[0] -= moved
    probs[2] += moved
    return probs / probs.sum()
