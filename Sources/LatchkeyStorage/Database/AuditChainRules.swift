/// The rules the database itself keeps for the audit chains (migration 13), so that an append is one statement:
///
/// - an event is refused unless it follows its tenant's head (`seq` one more, `prev_hash` the head's hash) — two
///   writers that both think they know the head cannot fork the chain, the second one's statement fails and it
///   reads and locks the head again;
/// - an inserted event moves the head to itself;
/// - a successful `credential.token` or `credential.reveal` event marks its credential used (`last_used_at`), in
///   the same statement, so a hand-out and its mark commit together.
///
/// A multi-row `INSERT` of consecutive events passes every rule row by row.
enum AuditChainRules {
    /// What a refused event's error says (both dialects).
    static let refusal = "audit_chain_moved: the event does not follow its chain head"

    static let sqlite = [
        """
        CREATE TRIGGER audit_events_follow_head BEFORE INSERT ON audit_events
        WHEN NOT EXISTS (SELECT 1 FROM audit_heads h WHERE h.tenant_id = NEW.tenant_id AND h.seq = NEW.seq - 1 AND h.hash = NEW.prev_hash)
        BEGIN SELECT RAISE(ABORT, '\(refusal)'); END
        """,
        """
        CREATE TRIGGER audit_events_move_head AFTER INSERT ON audit_events
        BEGIN UPDATE audit_heads SET seq = NEW.seq, hash = NEW.hash WHERE tenant_id = NEW.tenant_id; END
        """,
        """
        CREATE TRIGGER audit_events_mark_used AFTER INSERT ON audit_events
        WHEN NEW.action IN ('credential.token', 'credential.reveal') AND NEW.result = 'success' AND NEW.target IS NOT NULL
        BEGIN UPDATE credentials SET last_used_at = NEW.ts WHERE id = NEW.target AND tenant_id = NEW.tenant_id; END
        """,
    ]

    static let postgres = [
        """
        CREATE FUNCTION audit_events_follow_head() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          UPDATE audit_heads SET seq = NEW.seq, hash = NEW.hash
            WHERE tenant_id = NEW.tenant_id AND seq = NEW.seq - 1 AND hash = NEW.prev_hash;
          IF NOT FOUND THEN
            RAISE EXCEPTION '\(refusal)' USING ERRCODE = 'integrity_constraint_violation';
          END IF;
          IF NEW.action IN ('credential.token', 'credential.reveal') AND NEW.result = 'success' AND NEW.target IS NOT NULL THEN
            UPDATE credentials SET last_used_at = NEW.ts WHERE id = NEW.target AND tenant_id = NEW.tenant_id;
          END IF;
          RETURN NEW;
        END $$
        """,
        """
        CREATE TRIGGER audit_events_follow_head BEFORE INSERT ON audit_events
        FOR EACH ROW EXECUTE FUNCTION audit_events_follow_head()
        """,
    ]
}
