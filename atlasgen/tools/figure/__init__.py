"""`atlasgen figure`: a print-quality figure (PNG, SVG, PDF) of an atlas region."""
