-- Rasa's SQL tracker store lives in its own database on the same server (DESIGN.md, Storage).
CREATE DATABASE rasa OWNER crm;
