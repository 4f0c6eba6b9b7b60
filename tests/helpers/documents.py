"""Small realistic minutes in every format the documents collector reads, built at test time."""

from __future__ import annotations

from pathlib import Path

#: (text, is_heading) — a school council's minutes; four paragraphs carry feedback.
MINUTES: list[tuple[str, bool]] = [
    ("Conseil d'école — École Jules Ferry", True),
    ("Compte rendu du conseil d'école du 12 mars 2026", False),
    ("Présents : Mme Durand (directrice), M. Petit, Mme Lemoine, M. Garnier (parents "
     "d'élèves), Mme Roux (mairie).", False),
    ("Excusés : M. Bernard, Mme Colin.", False),
    ("Ordre du jour", True),
    ("1. Restauration scolaire", False),
    ("Les parents d'élèves signalent que les repas arrivent souvent froids à la cantine et "
     "que l'attente au self dépasse vingt minutes.", False),
    ("2. Périscolaire", False),
    ("Plusieurs familles remercient l'équipe d'animation pour son accueil chaleureux et sa "
     "disponibilité le mercredi.", False),
    ("3. Travaux", False),
    ("Le portail de la cour est toujours cassé depuis janvier, les parents demandent une "
     "réparation rapide pour la sécurité des enfants.", False),
    ("Questions diverses", True),
    ("Les horaires de la garderie ne conviennent pas aux parents qui travaillent tard.", False),
    ("La séance est levée à 19 h 30.", False),
    ("Prochaine réunion : 11 juin 2026.", False),
]
FEEDBACK = [text for text, _ in MINUTES if text.startswith(("Les ", "Plusieurs", "Le portail"))]


def write_txt(path: Path, encoding: str = "utf-8") -> Path:
    path.write_bytes("\n\n".join(text for text, _ in MINUTES).encode(encoding))
    return path


def write_md(path: Path) -> Path:
    lines = [f"# {text}" if heading else text for text, heading in MINUTES]
    path.write_text("\n\n".join(lines), encoding="utf-8")
    return path


def write_docx(path: Path) -> Path:
    import docx

    document = docx.Document()
    for text, heading in MINUTES:
        if heading:
            document.add_heading(text, level=1)
        else:
            document.add_paragraph(text)
    document.save(str(path))
    return path


def write_odt(path: Path) -> Path:
    from odf.opendocument import OpenDocumentText
    from odf.text import H, P

    document = OpenDocumentText()
    for text, heading in MINUTES:
        document.text.addElement(H(outlinelevel=1, text=text) if heading else P(text=text))
    document.save(str(path))
    return path


def write_pdf(path: Path, *, password: str | None = None) -> Path:
    """A real text PDF (reportlab lays out and wraps the paragraphs); encrypted with pypdf
    when ``password`` is given."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    styles = getSampleStyleSheet()
    story = []
    for text, heading in MINUTES:
        story.append(Paragraph(text, styles["Heading1" if heading else "BodyText"]))
        story.append(Spacer(1, 6))
    SimpleDocTemplate(str(path), pagesize=A4).build(story)
    if password:
        from pypdf import PdfReader, PdfWriter

        writer = PdfWriter(clone_from=PdfReader(str(path)))
        writer.encrypt(user_password=password, owner_password=password + "-owner",
                       algorithm="RC4-128")
        with path.open("wb") as handle:
            writer.write(handle)
    return path
