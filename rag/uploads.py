"""Uploads, one rule for the Library tab and ``POST /v1/documents``: check, then save under a stable name.

An article's ``doc_id`` comes from its absolute path, so uploads are copied to ``<data_dir>/uploads/``
(Gradio and Starlette keep them in temporary files). An upload is read by its uploader's questions only
(``NewsRAG.visitor_filters``; ``RAG_SHARED_UPLOADS`` shares them), but one folder and one index hold every
visitor's, so an upload whose name is taken by a different file never replaces it: it is kept as ``name-2.ext`` (the
same bytes again are simply the same article), nor takes the name of an article indexed from elsewhere.
Removing an article frees its name. Visitors may remove uploads only, and only their own: an upload that
saves a new file is given a removal key (``RemovalKeys``), which the Library tab keeps in the visitor's
browser and ``POST /v1/documents`` returns. Any visitor could remove any other visitor's upload, and so
change what that visitor was answered. The articles the server's operator indexed (``rag ingest``), and
any upload, are removed on the server (``rag remove``).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
import re
import secrets
import time
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeVar

from rag.decoding import reads_as_text
from rag.json_file import read_object, update_object
from rag.loading import SUPPORTED_SUFFIXES
from rag.types import DocumentInfo, Hit

UPLOAD_TYPES = tuple(sorted(SUPPORTED_SUFFIXES))
SNIFF_BYTES = 8192  # enough to tell a text file from a binary one renamed to .txt
MAX_FILES_PER_UPLOAD = 20  # files in one request; each is held to RAG_MAX_FILE_MB
# Saved names stay under the 255 bytes of common file systems with room for "-20" before the suffix.
MAX_NAME_BYTES, MAX_SUFFIX_BYTES = 200, 16


@dataclass
class Intake:
    """Uploads saved into the uploads folder, and the ones refused with a reason."""

    accepted: list[Path] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (file name, reason)
    renamed: list[tuple[str, str]] = field(default_factory=list)  # (file name, name it was saved under)
    names: dict[Path, str] = field(default_factory=dict)  # saved path -> the name it was uploaded as
    written: list[Path] = field(default_factory=list)  # accepted files that were new: same bytes again are not
    removal_key: str | None = None  # removes the ``written`` files' articles; None when nothing new was saved


def upload_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "uploads"


FOLDER_FULL = ("the server holds as many uploaded files as it keeps, all visitors' together (RAG_MAX_UPLOADS): "
               "ask its operator")
SENDER_FULL = ("you hold as many uploaded files as one visitor's network may keep (RAG_MAX_UPLOADS_PER_SENDER): "
               "remove some of yours first")
SENDER_BUSY = ("your network uploaded as many files in the last hour as one may (RAG_MAX_UPLOADS_PER_SENDER): "
               "send these later")
SENDER_HEAVY = ("your network uploaded as many megabytes in the last hour as one may (RAG_MAX_UPLOAD_MB_PER_SENDER): "
                "send this later")
# An IPv6 site's networks together (``site_of``): the IPv6 /48 your network is in.
SITE_FULL = ("the networks of your IPv6 site (its /48) hold as many uploaded files as one site may keep "
             "(RAG_MAX_UPLOADS_PER_SENDER, {share} times over): remove some of yours first, or ask the server's operator")
SITE_BUSY = ("the networks of your IPv6 site (its /48) uploaded as many files in the last hour as one site may "
             "(RAG_MAX_UPLOADS_PER_SENDER, {share} times over): send these later")
SITE_HEAVY = ("the networks of your IPv6 site (its /48) uploaded as many megabytes in the last hour as one site may "
              "(RAG_MAX_UPLOAD_MB_PER_SENDER, {share} times over): send this later")
# A site may upload this many networks' quotas: a household or office with a few networks is not held to one,
# while a /48 (the most any site is assigned; tunnel brokers hand one to anyone for free) holding 65,536 /64s
# gets 4 quotas, not 65,536.
SITE_SHARE = 4
HOUR = 3600.0


@dataclass(frozen=True)
class SenderRoom:
    """What a visitor's network may still upload (``UploadSenders.room``): ``files`` more, for ``reason``
    no more; and ``bytes`` more this hour (None: no limit). A file counts once, however many articles it holds,
    so one 20 MB collection of thousands of articles cost one file of a hundred, and hours of embedding."""

    files: int | None  # None: no limit
    reason: str
    bytes: int | None = None
    bytes_reason: str = SENDER_HEAVY


def save_uploads(uploads: Iterable[tuple[str, bytes]], destination: Path, max_bytes: int,
                 reserved: Collection[str] = (), own: Collection[str] | None = None, room: int | None = None,
                 sender_room: SenderRoom | None = None) -> Intake:
    """Save acceptable ``(file name, bytes)`` uploads into ``destination``; refuse wrong types, binaries,
    empty and oversized files with a reason, files past the ``MAX_FILES_PER_UPLOAD``-th, and new files past
    ``room`` (``RAG_MAX_UPLOADS`` less the files already there) or ``sender_room`` (what the uploader's
    network may still add, and why no more: ``UploadSenders.room``). Read at most ``max_bytes + 1`` bytes of each: that is
    enough to tell it is too large. ``reserved``: file names of articles indexed from elsewhere, which no
    upload may take; ``own``: the uploader's files (``free_name``)."""
    intake = Intake()
    destination.mkdir(parents=True, exist_ok=True)
    for count, (name, data) in enumerate(uploads, start=1):
        reason = upload_problem(name, data, max_bytes)
        if count > MAX_FILES_PER_UPLOAD:
            reason = f"more than {MAX_FILES_PER_UPLOAD} files in one upload: send it with the next ones"
        if reason:
            intake.rejected.append((name, reason))
            continue
        target = free_name(destination / safe_name(name), data, taken=intake.accepted, reserved=reserved, own=own)
        full = [reason for limit, reason in ((sender_room.files, sender_room.reason) if sender_room else (None, ""),
                                             (room, FOLDER_FULL))
                if limit is not None and len(intake.written) >= limit]
        if sender_room and sender_room.bytes is not None and \
                sum(path.stat().st_size for path in intake.written) + len(data) > sender_room.bytes:
            full.append(sender_room.bytes_reason)
        if full and not target.exists():
            intake.rejected.append((name, full[0]))
            continue
        if not target.exists():
            try:
                target.write_bytes(data)
            except OSError as exc:  # a full disk: this file is refused, the ones before it stay saved
                target.unlink(missing_ok=True)
                intake.rejected.append((name, f"could not be saved on the server ({exc.strerror or exc})"))
                continue
            intake.written.append(target.resolve())
        if target.name not in (Path(name).name, safe_name(name)):
            intake.renamed.append((name, target.name))
        intake.accepted.append(target.resolve())
        intake.names[target.resolve()] = name
    return intake


def read_upload(path: Path, max_bytes: int) -> bytes:
    """The first ``max_bytes + 1`` bytes of an uploaded file: all of it, or enough to refuse it."""
    with Path(path).open("rb") as handle:
        return handle.read(max_bytes + 1)


def upload_problem(name: str, data: bytes, max_bytes: int) -> str | None:
    """Why this upload cannot be an article, or None when it looks fine."""
    suffix = Path(name).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        return f"unsupported type '{suffix or 'none'}' (accepted: {', '.join(UPLOAD_TYPES)})"
    if len(data) > max_bytes:
        return f"too large (the limit is {max_bytes / 2**20:g} MB, set by RAG_MAX_FILE_MB)"
    if not data:
        return "empty file"
    if not reads_as_text(data[:SNIFF_BYTES]):
        return "binary content, not text"
    return None


def safe_name(name: str) -> str:
    """A file name without folders or odd characters, so an upload cannot land outside its folder, and
    short enough for any file system: a name past its 255 bytes failed to save, a 500 that left the
    request's earlier files saved and unindexed."""
    cleaned = Path(re.sub(r"[^\w.\-]+", "_", Path(name).name).lstrip(".") or "upload")
    suffix = cleaned.suffix if len(cleaned.suffix.encode()) <= MAX_SUFFIX_BYTES else ""
    stem = cleaned.name[:len(cleaned.name) - len(suffix)].encode()[:MAX_NAME_BYTES - len(suffix.encode())]
    return stem.decode(errors="ignore") + suffix


def free_name(wanted: Path, data: bytes, taken: Sequence[Path] = (), reserved: Collection[str] = (),
              own: Collection[str] | None = None) -> Path:
    """``wanted`` if it is free or is the uploader's own file with these very bytes; else the first free
    ``name-2.ext``, ``name-3.ext``...: an upload never replaces a different article that has the same file
    name, nor takes the name of one indexed from elsewhere (``reserved``): citations show the file name,
    and an upload named as the server's own article, with its title, read as that article with other
    facts. Another visitor's file with the same bytes is not the uploader's to read (``own``: the names
    their keys open; None: any): it was "unchanged", unreadable to them, and told them it existed."""
    candidate, n = wanted, 1
    while candidate.name in reserved or candidate.resolve() in taken or \
            (candidate.exists() and (candidate.read_bytes() != data or (own is not None and candidate.name not in own))):
        n += 1
        candidate = wanted.with_name(f"{wanted.stem}-{n}{wanted.suffix}")
    return candidate


def is_upload(source: str, destination: Path) -> bool:
    """Whether an article's source (a path, plus ``#key`` for a collection's item) is a file uploaded into
    ``destination`` rather than one the server's operator indexed."""
    return in_folder(source, str(Path(destination).resolve()))


def in_folder(source: str, folder: str) -> bool:
    """Sources are stored resolved (``rag.loading``), so comparing strings is enough: resolving each one
    again took 250 ms for a 5,000-article library, at every listing."""
    return os.path.dirname(source_file(source)) == folder


Marked = TypeVar("Marked", Hit, DocumentInfo)


def marked_uploads(items: Sequence[Marked], destination: Path) -> list[Marked]:
    """Passages or articles with ``uploaded`` set for those uploaded into ``destination``: every place
    that shows an article (the sources panel, the library, the API's citations) can say it is a
    visitor's, since an upload may carry any title and publisher."""
    folder = str(Path(destination).resolve())
    return [replace(item, uploaded=in_folder(item.source, folder)) for item in items]


def without_folder(reason: str, destination: Path) -> str:
    """A skip reason as the visitor who uploaded the file reads it: the server's folders left out ("the
    same article (source /srv/news/uploads/dup.jsonl#1) ..." showed where the server keeps its data)."""
    for folder in {str(Path(destination)), str(Path(destination).resolve())}:
        reason = reason.replace(folder + os.sep, "")
    return reason


def forget_upload(source: str, destination: Path, remaining: Sequence[object]) -> bool:
    """Delete a removed article's uploaded file, unless another indexed article still comes from it;
    True when the file was deleted (its removal key goes with it)."""
    path = Path(source_file(source))
    if not is_upload(source, destination) or not path.is_file():
        return False
    if any(Path(source_file(str(getattr(doc, "source", "")))).resolve() == path.resolve() for doc in remaining):
        return False
    path.unlink()
    return True


def removal_key() -> str:
    """A new secret for one upload request: unguessable, and short enough to paste into a header."""
    return secrets.token_urlsafe(24)


class RemovalKeys:
    """Who may remove an upload: per saved file name, the SHA-256 of the key its upload was given.

    Kept beside the uploads folder (never in it: a visitor's file could take its name), in a file the UI
    and ``rag serve`` share (``rag.json_file``). Only digests are stored, so reading the file does not
    hand out keys. An upload from before keys were given has none: only ``rag remove`` removes it."""

    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / "upload-keys.json"

    def grant(self, files: Iterable[Path], key: str) -> None:
        """Give ``key`` the newly written ``files``; a name freed by a removal and taken again gets the new key."""
        names = [Path(f).name for f in files]
        if names:
            update_object(self.path, lambda held: {**held, **dict.fromkeys(names, _digest(key))})

    def files_of(self, keys: Iterable[str]) -> set[str]:
        """The names of the files ``keys`` were given (comparing digests, so no key's timing leaks)."""
        digests = {_digest(key) for key in keys}
        return {name for name, digest in read_object(self.path).items() if digest in digests}

    def allows(self, source: str, keys: Iterable[str]) -> bool:
        """Whether one of ``keys`` was given for the file this article (``source``) comes from."""
        return file_name(source) in self.files_of(keys)

    def forget(self, source: str) -> None:
        name = file_name(source)
        if name in read_object(self.path):
            update_object(self.path, lambda held: {other: digest for other, digest in held.items() if other != name})


def sender_of(host: str | None) -> str:
    """The network a visitor's upload comes from, as a quota counts it: an IPv4 address, or an IPv6
    address's /64 (one household or server is given a whole /64, so counting single IPv6 addresses
    counted nothing; its site is counted too, ``site_of``). Visitors whose address is not known share one
    quota. (The operator's own callers, the Python API and ``rag ingest``, pass no sender and have no such
    limit.)"""
    if not host:
        return "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:  # a Unix socket's peer, a test client's name
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def site_of(sender: str) -> str | None:
    """The IPv6 /48 an IPv6 network (``sender_of``) is part of, which quotas count as well (``SITE_SHARE``
    networks' worth), or None for any other sender. One /64 a network, a visitor holding a /48, which a
    tunnel broker hands anyone, held 65,536 quotas."""
    try:
        network = ipaddress.ip_network(sender)
    except ValueError:
        return None
    return str(network.supernet(new_prefix=48)) if network.version == 6 and network.prefixlen > 48 else None


def request_sender(request: object) -> str:
    """``sender_of`` the client of a request: Starlette's (the HTTP API) and Gradio's (the UI) alike."""
    client = getattr(request, "client", None)
    return sender_of(getattr(client, "host", None))


class UploadSenders:
    """Which network (``sender_of``) saved each uploaded file, and when, so that one visitor can neither fill
    the folder (one anonymous client filled RAG_MAX_UPLOADS' 1,000 files in 43 s, and every other visitor's
    upload was refused) nor upload and remove in a loop (each write rebuilds the keyword index, and every
    visitor's search waited on it: 0.2 s became up to 1.6 s on a small archive). Kept beside the removal keys,
    as keyed digests of the networks (a plain SHA-256 of an IPv4 address is undone by trying all four
    billion): the file never lists who uploaded."""

    def __init__(self, data_dir: Path, clock: Callable[[], float] = time.time) -> None:
        self.path = Path(data_dir) / "upload-senders.json"
        self.clock = clock

    def room(self, sender: str, destination: Path, limit: int | None, byte_limit: int | None = None) -> SenderRoom:
        """What this network may still upload: no more files once it keeps ``limit`` files of ``destination``
        (removed ones no longer count) or uploaded ``limit`` in the last hour; and ``byte_limit`` bytes an hour.
        An IPv6 network's site (``site_of``) is held to ``SITE_SHARE`` times as much. None: no such limit."""
        saved = read_object(self.path)
        files, secret = saved.get("files"), saved.get("secret")
        if not isinstance(files, dict) or not isinstance(secret, str):
            return SenderRoom(limit, SENDER_FULL, byte_limit)
        now = self.clock()

        def left(mark: str, share: int, reasons: tuple[str, str, str]) -> SenderRoom:
            held = sum(1 for name, marks in files.items() if mark in _marks(marks) and (Path(destination) / name).is_file())
            lately = [size for digest, _, size in _recent(saved, now) if digest == mark]
            bytes_left = None if byte_limit is None else max(share * byte_limit - sum(lately), 0)
            files_left = None if limit is None else max(share * limit - max(held, len(lately)), 0)
            return SenderRoom(files_left, reasons[0] if held >= len(lately) else reasons[1], bytes_left, reasons[2])

        rooms = [left(_keyed(secret, sender), 1, (SENDER_FULL, SENDER_BUSY, SENDER_HEAVY))]
        if (site := site_of(sender)) is not None:
            rooms.append(left(_keyed(secret, _SITE + site), SITE_SHARE,
                              tuple(reason.format(share=SITE_SHARE) for reason in (SITE_FULL, SITE_BUSY, SITE_HEAVY))))
        return _tightest(rooms)

    def record(self, files: Sequence[Path], sender: str) -> None:
        """``sender`` (and its site) saved ``files`` (of one folder) now; entries of files no longer there, and
        uploads more than an hour old, are dropped on the way."""
        if not files:
            return
        folder, now = Path(files[0]).parent, self.clock()
        site = site_of(sender)

        def add(saved: dict[str, object]) -> dict[str, object]:
            secret = saved.get("secret")
            secret = secret if isinstance(secret, str) else secrets.token_hex(32)
            held = saved.get("files")
            kept = {name: marks for name, marks in held.items() if (folder / name).is_file()} \
                if isinstance(held, dict) else {}
            marks = [_keyed(secret, sender)] + ([_keyed(secret, _SITE + site)] if site is not None else [])
            return {"secret": secret, "files": {**kept, **dict.fromkeys((Path(f).name for f in files), marks)},
                    "recent": [*_recent(saved, now), *((mark, now, _size(f)) for f in files for mark in marks)]}

        update_object(self.path, add)


_SITE = "site "  # what a site's mark is keyed from, apart from any sender's


def _marks(value: object) -> list[object]:
    """The marks one saved file counts for: its network's, and its site's (a file saved before sites
    were counted holds its network's alone, as a string)."""
    return value if isinstance(value, list) else [value]


def _tightest(rooms: Sequence[SenderRoom]) -> SenderRoom:
    """The least room of several counts a network is held to, with the reason of the one that binds."""
    by_files = min(rooms, key=lambda room: float("inf") if room.files is None else room.files)
    by_bytes = min(rooms, key=lambda room: float("inf") if room.bytes is None else room.bytes)
    return SenderRoom(by_files.files, by_files.reason, by_bytes.bytes, by_bytes.bytes_reason)


def _recent(saved: dict[str, object], now: float) -> list[tuple[object, float, int]]:
    """The ``(digest, time, bytes)`` of each upload of the last hour (``UploadSenders``); an entry written
    before sizes were kept counts 0 bytes."""
    entries = saved.get("recent")
    if not isinstance(entries, list):
        return []
    return [(entry[0], entry[1], entry[2] if len(entry) == 3 and isinstance(entry[2], int) else 0)
            for entry in entries if isinstance(entry, list) and len(entry) in (2, 3)
            and isinstance(entry[1], (int, float)) and 0 <= now - entry[1] < HOUR]


def _size(path: Path) -> int:
    try:
        return Path(path).stat().st_size
    except OSError:  # removed meanwhile: it cost nothing to index
        return 0


def file_name(source: str) -> str:
    """The name of the file an uploaded article comes from."""
    return Path(source_file(source)).name


def source_file(source: str) -> str:
    """The file part of an uploaded article's source (a collection's item adds ``#key``). Cut at the first
    "#": an upload's saved name holds none (``safe_name``)."""
    return source.split("#", 1)[0]


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _keyed(secret: str, sender: str) -> str:
    return hmac.new(secret.encode(), sender.encode(), hashlib.sha256).hexdigest()
