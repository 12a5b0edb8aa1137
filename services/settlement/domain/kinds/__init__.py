"""Entry kinds: one module per kind (its draft, its checks, its postings, its query rows); see ``registry``."""
