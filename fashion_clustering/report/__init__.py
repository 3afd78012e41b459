"""The generated report: the run it reads (``run``), its pictures (``pictures``), what it says
(``content``) and how it is written to Markdown and PDF (``document``)."""
