"""The HTML report of a CV run: one self-contained, escaped, printable file."""

from foldstack.report._html import render_html, write_html
from foldstack.report._summary import data_summary

__all__ = ["data_summary", "render_html", "write_html"]
