"""A small document model (numbered chapters of paragraphs, tables and figures) and its two
renderings: Markdown, and a one-column PDF with numbered sections and captioned figures
and tables, made by fpdf2 (no TeX needed). Both are byte-stable."""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence, Union

from ..files import atomic_path

# A fixed creation date (fpdf2 would write the current time) keeps the PDF byte-stable.
PDF_DATE = datetime.datetime(1980, 1, 1, tzinfo=datetime.timezone.utc)
PAGE_MARGIN_MM = 20
BODY_PT = 10


@dataclass(frozen=True)
class Paragraph:
    """A paragraph of plain text."""

    text: str


@dataclass(frozen=True)
class Table:
    """A table with a caption, numbered in the document."""

    caption: str
    header: Sequence[str]
    rows: Sequence[Sequence[str]]
    widths: Sequence[float] | None = None  # relative column widths in the PDF; None: equal


@dataclass(frozen=True)
class Figure:
    """A picture with a caption, numbered in the document."""

    path: Path          # relative to the document's folder
    caption: str
    width: float = 1.0  # share of the text width in the PDF


Block = Union[Paragraph, Table, Figure]


@dataclass(frozen=True)
class Chapter:
    """A titled sequence of blocks; numbered unless ``numbered`` is false (the abstract)."""

    title: str
    blocks: Sequence[Block]
    numbered: bool = True


@dataclass(frozen=True)
class Document:
    """A report: its title and chapters, written out as Markdown or PDF."""

    title: str
    chapters: Sequence[Chapter] = field(default_factory=list)


def _numbering(document: Document):
    """Yield ``(section heading, block, label)``: labels number tables and figures in order."""
    counts = {Table: 0, Figure: 0}
    number = 0
    for chapter in document.chapters:
        if chapter.numbered:
            number += 1
        heading = f"{number} {chapter.title}" if chapter.numbered else chapter.title
        yield heading, None, None
        for block in chapter.blocks:
            label = None
            if type(block) in counts:
                counts[type(block)] += 1
                label = f"{type(block).__name__} {counts[type(block)]}"
            yield heading, block, label


def to_markdown(document: Document) -> str:
    """The document as Markdown, chapters and their tables and figures numbered."""
    lines = [f"# {document.title}", ""]
    for heading, block, label in _numbering(document):
        if block is None:
            lines += [f"## {heading}", ""]
        elif isinstance(block, Paragraph):
            lines += [block.text, ""]
        elif isinstance(block, Table):
            lines += [f"*{label}: {block.caption}*", "", "| " + " | ".join(block.header) + " |",
                      "|" + "---|" * len(block.header)]
            lines += ["| " + " | ".join(row) + " |" for row in block.rows]
            lines.append("")
        else:
            lines += [f"![{label}]({block.path.as_posix()})", "", f"*{label}: {block.caption}*", ""]
    return "\n".join(lines)


def _font_dir() -> Path:
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def _title_page(title: str):
    """An A4 PDF, byte-stable, with its fonts, and ``title`` at the top of its first page."""
    from fpdf import FPDF

    logging.getLogger("fontTools").setLevel(logging.WARNING)  # it logs each font subset step
    pdf = FPDF(format="A4")
    pdf.set_creation_date(PDF_DATE)
    pdf.set_title(title)
    pdf.set_margins(PAGE_MARGIN_MM, PAGE_MARGIN_MM)
    pdf.set_auto_page_break(True, PAGE_MARGIN_MM)
    fonts = _font_dir()  # DejaVu, shipped with matplotlib, for text beyond Latin-1
    for style, suffix in (("", ""), ("B", "-Bold"), ("I", "-Italic")):
        pdf.add_font("serif", style, str(fonts / f"DejaVuSerif{suffix}.ttf"))
    pdf.add_page()
    pdf.set_font("serif", "B", 15)
    pdf.multi_cell(0, 8, title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    return pdf


def write_pdf(document: Document, path: str | Path, base_dir: str | Path) -> None:
    """The document as a PDF; figure paths are relative to ``base_dir``."""
    pdf = _title_page(document.title)
    for heading, block, label in _numbering(document):
        if block is None:
            if pdf.get_y() > pdf.h - 3 * PAGE_MARGIN_MM:
                pdf.add_page()
            pdf.ln(3)
            pdf.set_font("serif", "B", 12)
            pdf.start_section(heading)
            pdf.cell(0, 7, heading, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(1)
        elif isinstance(block, Paragraph):
            pdf.set_font("serif", "", BODY_PT)
            pdf.multi_cell(0, 5, block.text, markdown=True, align="L", new_x="LMARGIN", new_y="NEXT")
            pdf.ln(2)
        elif isinstance(block, Table):
            pdf.set_font("serif", "I", BODY_PT - 1)
            pdf.multi_cell(0, 5, f"{label}: {block.caption}", new_x="LMARGIN", new_y="NEXT")
            pdf.set_font("serif", "", BODY_PT - 2)
            with pdf.table(text_align="LEFT", line_height=4.5, first_row_as_headings=True,
                           col_widths=block.widths) as table:
                for row in (block.header, *block.rows):
                    table.row(list(row))
            pdf.ln(3)
        else:
            _pdf_figure(pdf, Path(base_dir) / block.path, block.width, f"{label}: {block.caption}")
    with atomic_path(path) as tmp:
        pdf.output(str(tmp))


def _pdf_figure(pdf, image_path: Path, width_share: float, caption: str) -> None:
    from PIL import Image

    with Image.open(image_path) as image:
        aspect = image.height / image.width
    width = width_share * pdf.epw
    height = width * aspect
    room = pdf.h - PAGE_MARGIN_MM - pdf.get_y() - 12
    if height > room:
        pdf.add_page()
        room = pdf.h - 2 * PAGE_MARGIN_MM - 12
        if height > room:
            height, width = room, room / aspect
    pdf.image(str(image_path), x=pdf.l_margin + (pdf.epw - width) / 2, w=width, h=height)
    pdf.set_font("serif", "I", BODY_PT - 1)
    pdf.multi_cell(0, 5, caption, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
