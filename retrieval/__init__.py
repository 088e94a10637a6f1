"""Knowledge retrieval: ingestion, MiniLM embeddings, FAISS + BM25 search, cited answers.

Public entry points: `retrieval.service.answer`, `retrieval.service.search`,
`retrieval.knowledge.KnowledgeIndex`, `retrieval.ingest.load_paths`.
"""
