-- What a consumer token (another system) may read: records of these agencies besides its
-- own, and only of these document types when any are named. JSON:
-- {"agencies": ["000.00.09.H29"], "doc_types": ["identity_card"]}.
ALTER TABLE tokens ADD COLUMN scope TEXT NOT NULL DEFAULT '{}';
