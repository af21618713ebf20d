"""Tests of the content loader and the content/simulate commands."""
