"""Bulk import and export of key accounts (CSV/XLSX)."""
