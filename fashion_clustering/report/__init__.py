"""The generated report: what it says (``content``) and how it is written to Markdown and PDF (``document``)."""
