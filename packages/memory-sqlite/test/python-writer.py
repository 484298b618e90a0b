"""The original Python app's writes, with Python's own sqlite3 module, driven by JSON lines on stdin.

Each line is one operation; the answer is one JSON line on stdout: {"ok": true} or {"ok": false, "error": ...}.
The statements are the ones flux-rag's ConversationMemory ran, committed as it committed them.
"""
import json
import sqlite3
import sys
import time

con = sqlite3.connect(sys.argv[1], timeout=float(sys.argv[2]) if len(sys.argv) > 2 else 10.0)
print(json.dumps({"ok": True, "sqlite": sqlite3.sqlite_version}), flush=True)

for line in sys.stdin:
    op = json.loads(line)
    try:
        kind = op["op"]
        if kind == "create_session":
            con.execute(
                "INSERT INTO sessions (id, title, created_at, updated_at, metadata) VALUES (?, ?, ?, ?, ?)",
                (op["id"], op.get("title"), op["at"], op["at"], json.dumps(op.get("metadata") or {})),
            )
            con.commit()
        elif kind == "add_message":
            con.execute(
                "INSERT INTO messages (id, session_id, role, content, created_at, metadata) VALUES (?,?,?,?,?,?)",
                (op["id"], op["session"], op["role"], op["content"], op["at"], json.dumps(op.get("metadata") or {})),
            )
            con.execute("UPDATE sessions SET updated_at = ? WHERE id = ?", (op["at"], op["session"]))
            con.commit()
        elif kind == "rename":
            con.execute("UPDATE sessions SET title=?, updated_at=? WHERE id=?", (op["title"], op["at"], op["session"]))
            con.commit()
        elif kind == "delete_session":
            con.execute("DELETE FROM messages WHERE session_id = ?", (op["session"],))
            con.execute("DELETE FROM sessions WHERE id = ?", (op["session"],))
            con.commit()
        elif kind == "hold_lock":
            # Holds the write lock for a while, as a long Python transaction would.
            con.execute("BEGIN IMMEDIATE")
            print(json.dumps({"ok": True, "holding": True}), flush=True)
            time.sleep(op["ms"] / 1000)
            con.commit()
        else:
            raise ValueError("unknown op " + kind)
        print(json.dumps({"ok": True}), flush=True)
    except Exception as error:  # reported to the test, which fails on it
        con.rollback()
        print(json.dumps({"ok": False, "error": f"{type(error).__name__}: {error}"}), flush=True)
