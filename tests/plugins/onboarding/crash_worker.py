"""A worker process for the registration crash loop (not a test module).

    python crash_worker.py URL KILL_AFTER [forget RUN]
    python crash_worker.py loop register|forget TEMPLATE WORKDIR

Registers member "amir" through the real onboarding flow on the database at URL, answering
whatever the flow asks, and kills itself with SIGKILL right after its KILL_AFTER-th database
write (0: never). Prints ``registered`` when the registration is complete. With ``forget``,
deletes amir's data instead (/hapusdata, or the resume job after a crash; run number RUN
moves the clock on by RUN hours so that job is due) and prints ``forgotten`` when done.

``loop`` runs the whole crash loop from one parent, which imports everything once and then
forks a fresh child per run (the imports are most of a run's time; the parent starts no event
loop and no thread, so forking is safe). First a child counts the N writes of an undisturbed
run on a copy of TEMPLATE; then for each k in 1..N a child starts on a fresh copy and is
killed right after its k-th write, and a second child restarts on what it left: it checks the
invariants first and must finish. Prints one line per run (``k 3 killed``, ``k 3 resumed``).
"""

from __future__ import annotations

import asyncio
import functools
import os
import shutil
import signal
import sys
from datetime import timedelta
from typing import Any

from tortoise.backends.sqlite import client as sqlite_client

from core import Account, App, FakeClock, Job, Member
from core.models import Conversation
from core.testing import TEST_START, FakeChat, test_settings
from plugins.onboarding.models import Profile

_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")
_state = {"armed": False, "left": 0, "writes": 0, "wrapped": False}


def _count_writes() -> None:
    """Wrap the SQLite client so each completed write counts down to SIGKILL (once)."""
    if _state["wrapped"]:
        return
    _state["wrapped"] = True
    for cls in (sqlite_client.SqliteClient, sqlite_client.SqliteTransactionWrapper):
        for name in ("execute_insert", "execute_query", "execute_many"):
            original = getattr(cls, name, None)
            if original is None:
                continue

            @functools.wraps(original)
            async def wrapped(self: Any, query: str, *args: Any, __o: Any = original) -> Any:
                result = await __o(self, query, *args)
                is_write = str(query).lstrip().upper().startswith(_WRITES)
                if is_write:
                    _state["writes"] += 1
                if _state["armed"] and is_write:
                    _state["left"] -= 1
                    if _state["left"] == 0:
                        os.kill(os.getpid(), signal.SIGKILL)
                return result

            setattr(cls, name, wrapped)


async def _drive(app: App) -> None:
    chat = FakeChat(app)
    amir = chat.user("amir")
    for _ in range(30):
        account = await app.identity.account_for(amir.ref)
        member = await Member.get(id=account.member_id) if account else None
        if member is not None and member.registered_at is not None:
            # Finished with the answers given, each stored as the answer to its question.
            profile = await Profile.get_or_none(member_id=member.id)
            got = (
                member.display_name,
                member.region_code,
                profile.batch if profile else None,
                profile.training if profile else None,
            )
            if got != ("Amir Hamzah", "11.08", 7, "Pemasaran Digital"):
                print(f"broken: registered as {got}", flush=True)
                raise SystemExit(3)
            print("registered", flush=True)
            return
        await amir.says("/start")
        conversation = (
            await app.conversations.get(member.id, amir.dm.key) if member is not None else None
        )
        if conversation is None:
            account = await app.identity.account_for(amir.ref)
            assert account is not None
            conversation = await app.conversations.get(account.member_id, amir.dm.key)
        step = conversation.step if conversation is not None else ""
        if step == "consent":
            await amir.presses("Setuju")
        elif step == "name":
            await amir.says("Amir Hamzah")
        elif step == "region":
            await amir.says("aceh utara")
            if chat.latest_with_button(amir.dm, "Ya, benar") is not None:
                await amir.presses("Ya, benar")
        elif step == "batch":
            await amir.says("7")
        elif step == "training":
            await amir.says("Pemasaran Digital")
        elif step == "language":
            await amir.presses("Bahasa Indonesia")
    raise SystemExit("registration did not finish")


async def _invariants() -> list[str]:
    """What must hold whenever the process died: checked before this run goes on."""
    broken = []
    for member in await Member.filter(registered_at__isnull=False):
        if not await Profile.filter(member_id=member.id).exists():
            broken.append(f"member {member.id} registered without a profile")
        if await Conversation.filter(member_id=member.id, flow="onboarding").exists():
            broken.append(f"member {member.id} registered with the flow still open")
    if await Conversation.filter(flow="onboarding", step="done").exists():
        broken.append("a flow stuck at 'done'")
    if await Member.all().count() > 1:
        broken.append("more than one member")
    return broken


async def _forget(app: App) -> None:
    chat = FakeChat(app)
    amir = chat.user("amir")
    account = await app.identity.account_for(amir.ref)
    if account is None:
        print("forgotten", flush=True)
        return
    pending = await Job.filter(kind="privacy:forget", status__in=("pending", "running")).exists()
    if pending:
        await app.run_pending()  # the resume job (the clock is hours on)
    else:
        await amir.says("/hapusdata")
        await amir.presses("Ya, hapus semua")
    if await app.identity.account_for(amir.ref) is None:
        left = [
            name
            for name, count in (
                ("members", await Member.all().count()),
                ("accounts", await Account.all().count()),
                ("profiles", await Profile.all().count()),
                ("conversations", await Conversation.all().count()),
            )
            if count
        ]
        if left:
            print("broken: left after the deletion:", ", ".join(left), flush=True)
            raise SystemExit(3)
        print("forgotten", flush=True)


async def _forget_invariants() -> list[str]:
    broken = []
    members = await Member.all().count()
    accounts = await Account.all().count()
    if members == 0 and (accounts or await Profile.all().count()):
        broken.append("accounts or a profile outlived their member")
    unfinished = Job.filter(kind="privacy:forget", status__in=("pending", "running"))
    if members and not await Profile.all().exists() and not await unfinished.exists():
        broken.append("profile gone, member kept, and no job to finish the deletion")
    return broken


async def main(url: str, kill_after: str, mode: str = "register", run: str = "0") -> None:
    _state["writes"] = 0
    settings = test_settings(database={"url": url}, limits={"commands_per_minute": 0})
    _count_writes()
    clock = FakeClock(TEST_START + timedelta(hours=int(run)))
    async with App(settings, schema="none", clock=clock) as app:
        if mode == "forget":
            broken = await _forget_invariants()
            if broken:
                print("broken:", "; ".join(broken), flush=True)
                raise SystemExit(3)
            _state["left"] = int(kill_after)
            _state["armed"] = int(kill_after) > 0
            _state["writes"] = 0
            await _forget(app)
            print(f"writes {_state['writes']}", flush=True)
            return
        broken = await _invariants()
        if broken:
            print("broken:", "; ".join(broken), flush=True)
            raise SystemExit(3)
        _state["left"] = int(kill_after)
        _state["armed"] = int(kill_after) > 0
        _state["writes"] = 0
        await _drive(app)
        print(f"writes {_state['writes']}", flush=True)


def _child(url: str, kill_after: int, mode: str, run: int) -> tuple[str, str]:
    """Run ``main`` in a forked child; its outcome (``killed``, ``ok``, ``exit N``) and what
    it printed."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(read)
        os.dup2(write, 1)
        code = 0
        try:
            asyncio.run(main(url, str(kill_after), mode, str(run)))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except BaseException as exc:
            print(f"crashed: {exc!r}", flush=True)
            code = 1
        sys.stdout.flush()
        os._exit(code)
    os.close(write)
    with os.fdopen(read) as pipe:
        out = pipe.read()
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        outcome = "killed" if os.WTERMSIG(status) == signal.SIGKILL else f"signal {status}"
    else:
        code = os.WEXITSTATUS(status)
        outcome = "ok" if code == 0 else f"exit {code}"
    return outcome, out


def _copy(template: str, path: str) -> str:
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(template + suffix):
            shutil.copyfile(template + suffix, path + suffix)
        elif os.path.exists(path + suffix):
            os.remove(path + suffix)
    return f"sqlite://{path}"


def loop(mode: str, template: str, workdir: str) -> int:
    """The crash loop of ``mode`` (see the module docstring); 0 if every run went right."""
    done = "registered" if mode == "register" else "forgotten"
    outcome, out = _child(_copy(template, f"{workdir}/count.sqlite3"), 0, mode, 0)
    writes = [int(line.split()[1]) for line in out.splitlines() if line.startswith("writes ")]
    if outcome != "ok" or done not in out or not writes:
        print(f"undisturbed run failed: {outcome} {out}", flush=True)
        return 1
    total = writes[-1]
    print(f"writes {total}", flush=True)
    for k in range(1, total + 1):
        url = _copy(template, f"{workdir}/k{k}.sqlite3")
        outcome, out = _child(url, k, mode, 0)
        print(f"k {k} {outcome}", flush=True)
        if outcome not in ("killed", "ok"):
            print(out, flush=True)
            return 1
        # The restart: invariants first (exit 3 if broken), then it must finish.
        outcome, out = _child(url, 0, mode, 1)
        if outcome != "ok" or done not in out:
            print(f"k {k} restart failed: {outcome}\n{out}", flush=True)
            return 1
        print(f"k {k} resumed", flush=True)
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(f"{workdir}/k{k}.sqlite3{suffix}"):
                os.remove(f"{workdir}/k{k}.sqlite3{suffix}")
    return 0


if __name__ == "__main__":
    if sys.argv[1] == "loop":
        raise SystemExit(loop(*sys.argv[2:5]))
    asyncio.run(main(*sys.argv[1:5]))
