"""A tiny BERT-style sentiment model built from scratch, saved with ``save_pretrained`` and
loaded back through ecoute's own loading path (no hub, no download)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

POSITIVE = [
    "friendly staff", "very kind and helpful agent", "quick service thank you", "great welcome",
    "excellent and fast", "personnel très aimable", "accueil chaleureux merci", "super rapide",
    "very good experience", "réponse rapide et efficace", "agent poli et souriant",
    "perfect thank you", "bravo excellent accueil", "nice and polite", "très bien merci",
]
NEGATIVE = [
    "minutes of waiting", "rude staff", "terrible service", "still no answer", "awful and slow",
    "attente interminable", "personnel désagréable", "aucune réponse depuis des semaines",
    "very bad experience", "horrible waiting", "accueil minable", "waiting forever",
    "impossible de joindre", "nul et lent", "never again terrible",
]
NEUTRAL = [
    "the office is on main street", "i went there on monday", "the form has two pages",
    "la mairie est place centrale", "je suis venu lundi", "le formulaire a deux pages",
    "the building has a door", "il y a un guichet", "open on tuesday", "the bus stops here",
]


def build_tiny_model(folder: Path, *, seed: int = 7, steps: int = 150) -> Path:
    """Train a 2-layer, 32-wide BERT on a few labelled phrases and save it to ``folder``."""
    import torch
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
    from transformers import BertConfig, BertForSequenceClassification, PreTrainedTokenizerFast

    random.seed(seed)
    torch.manual_seed(seed)
    corpus = POSITIVE + NEGATIVE + NEUTRAL
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok = Tokenizer(models.WordLevel({t: i for i, t in enumerate(specials)}, unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True, strip_accents=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    # A vocabulary read off the corpus in sorted order: trained tokenizers break ties
    # differently from run to run, and the model trained on top would differ too.
    words = sorted({w for text in corpus for w, _ in tok.pre_tokenizer.pre_tokenize_str(
        tok.normalizer.normalize_str(text))})
    tok = Tokenizer(models.WordLevel(
        {t: i for i, t in enumerate(specials + words)}, unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True, strip_accents=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    cls_id, sep_id = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B [SEP]",
        special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)],
    )
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
        sep_token="[SEP]", mask_token="[MASK]", model_max_length=64,
    )
    config = BertConfig(
        vocab_size=tok.get_vocab_size(), hidden_size=32, num_hidden_layers=2,
        num_attention_heads=2, intermediate_size=64, max_position_embeddings=64,
        num_labels=3, id2label={0: "negative", 1: "neutral", 2: "positive"},
        label2id={"negative": 0, "neutral": 1, "positive": 2},
    )
    model = BertForSequenceClassification(config)
    texts = NEGATIVE + NEUTRAL + POSITIVE
    labels = torch.tensor([0] * len(NEGATIVE) + [1] * len(NEUTRAL) + [2] * len(POSITIVE))
    batch = tokenizer(texts, padding=True, return_tensors="pt")
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the same summation order, hence the same model, every time
    try:
        model.train()
        for _ in range(steps):
            optimizer.zero_grad()
            loss = model(**batch, labels=labels).loss
            loss.backward()
            optimizer.step()
    finally:
        torch.set_num_threads(threads)
    model.eval()
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Folder of a tiny sentiment model that knows "friendly" from "waiting" (en and fr)."""
    return build_tiny_model(tmp_path_factory.mktemp("tiny-model") / "tiny-sentiment")
