-- Single sign-on (OpenID Connect). An account's sign-in email (set by an administrator, or
-- taken from a verified email claim) and, once a person has been matched, the provider's
-- subject (issuer + sub), which identifies them from then on even if their email changes.
ALTER TABLE users ADD COLUMN email TEXT;
ALTER TABLE users ADD COLUMN oidc_issuer TEXT;
ALTER TABLE users ADD COLUMN oidc_subject TEXT;
-- True when the account's role and regions come from the provider's groups claim: such an
-- account is refused once none of the person's groups is mapped any more.
ALTER TABLE users ADD COLUMN sso_groups BOOLEAN DEFAULT FALSE;
-- Append-only: one row per identity presented by a browser. The primary key makes an
-- identity sign in once, even when two tabs present it at the same moment. Only hashes.
CREATE TABLE sso_sign_ins (
    token_hash TEXT PRIMARY KEY,
    identity_tag TEXT NOT NULL,
    username TEXT,
    outcome TEXT NOT NULL,
    signed_in_at TIMESTAMP NOT NULL
);
