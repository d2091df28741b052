"""Open a source file in a guarded way: a file-level fault is one clear error.

Everything that can go wrong with a file *as a whole* is turned into an
:class:`~riskstrat.exceptions.UnreadableFileError` that names the file and what
to do, and never quotes the data (the message may be logged): a folder where a
file should be, no permission, bytes that are not in the expected encoding
(with a guess: "looks like Latin-1: give --encoding latin-1"), CSV bytes named
``.parquet``, a truncated Parquet file, a header line with no end. Headers are
read with a bounded read, so a file with no newline (or a sparse file of zero
bytes) is never read whole to find its header.

Rows that are merely malformed (too many or too few fields, a whitespace-only
line) are not file-level faults: :func:`read_csv_rows` returns them so that the
loader can send them to rejects with their row number.
"""

from __future__ import annotations

import codecs
import csv
import io
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from riskstrat.exceptions import UnreadableFileError

__all__: list[str] = []

#: At most this many bytes are read to find the header line.
MAX_HEADER_BYTES = 1 << 20

#: CSV block size; a single row longer than this is a file-level error.
BLOCK_BYTES = 1 << 24

#: Raw text kept in a reject's ``value`` for a malformed row.
MAX_VALUE_CHARS = 200

_PARQUET_MAGIC = b"PAR1"


@dataclass(frozen=True)
class MalformedRow:
    """A CSV row that could not be split into the header's fields."""

    row: int  # 1-based, header not counted
    fields: int
    expected: int
    text: str  # at most MAX_VALUE_CHARS characters
    patient_id: str | None


def check_encoding(encoding: str) -> str:
    """The codec name of ``encoding``; a ``ValueError`` if Python does not know it.

    Examples
    --------
    >>> check_encoding("Latin-1")
    'iso8859-1'
    >>> check_encoding("klingon")
    Traceback (most recent call last):
    ...
    ValueError: The `encoding` parameter must be a text encoding Python knows (utf-8, latin-1, cp1252, utf-16, ...). Got 'klingon' instead.
    """  # noqa: E501
    try:
        return codecs.lookup(encoding).name
    except (LookupError, TypeError):
        raise ValueError(
            "The `encoding` parameter must be a text encoding Python knows (utf-8, "
            f"latin-1, cp1252, utf-16, ...). Got {encoding!r} instead."
        ) from None


def check_readable(path: Path) -> int:
    """Refuse a path that is not a readable regular file; return its size."""
    try:
        info = path.stat()
    except OSError as exc:
        raise UnreadableFileError(
            f"{path.name}: cannot be read ({type(exc).__name__}: "
            f"{exc.strerror or 'no detail'})."
        ) from None
    if stat.S_ISDIR(info.st_mode):
        raise UnreadableFileError(
            f"{path.name} is a folder, not a file: a canonical table must be one "
            "CSV or Parquet file."
        )
    if not stat.S_ISREG(info.st_mode):
        raise UnreadableFileError(
            f"{path.name} is not a regular file (a device, pipe or socket)."
        )
    try:
        with path.open("rb"):
            pass
    except OSError as exc:
        raise UnreadableFileError(
            f"{path.name}: cannot be opened ({type(exc).__name__}: "
            f"{exc.strerror or 'no detail'}); check its permissions."
        ) from None
    return info.st_size


def guess_encoding(sample: bytes) -> str:
    """A human name and the ``--encoding`` value for bytes that are not UTF-8.

    Examples
    --------
    >>> guess_encoding("née".encode("latin-1"))
    'looks like Latin-1: give --encoding latin-1'
    >>> guess_encoding("a,b".encode("utf-16"))
    'looks like UTF-16: give --encoding utf-16'
    """
    if sample.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        return "looks like UTF-32: give --encoding utf-32"
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "looks like UTF-16: give --encoding utf-16"
    head = sample[:4096]
    if head and head.count(b"\x00") > len(head) // 4:
        return "looks like UTF-16 (or binary): try --encoding utf-16"
    if any(0x80 <= b <= 0x9F for b in sample):
        try:
            sample.decode("cp1252")
        except UnicodeDecodeError:
            pass
        else:
            return "looks like Windows-1252: give --encoding cp1252"
    return "looks like Latin-1: give --encoding latin-1"


def _first_bad_byte(path: Path, encoding: str) -> tuple[int, int, bytes] | None:
    """Line (1-based), byte offset and nearby bytes of the first undecodable byte.

    None when the whole file decodes. Streams the file in 1 MiB blocks.
    """
    decoder = codecs.getincrementaldecoder(encoding)()
    offset, line = 0, 1
    with path.open("rb") as fh:
        while True:
            chunk = fh.read(1 << 20)
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeError as exc:
                start = max(getattr(exc, "start", 0), 0)
                line += chunk.count(b"\n", 0, start)
                return line, offset + start, chunk[: start + 4096]
            if not chunk:
                return None
            offset += len(chunk)
            line += chunk.count(b"\n")


def _encoding_error(
    path: Path, encoding: str, found: tuple[int, int, bytes] | None = None
) -> UnreadableFileError:
    codec = "utf-8" if encoding == "utf-8-sig" else codecs.lookup(encoding).name
    found = found or _first_bad_byte(path, encoding) or (0, 0, b"")
    line, offset, sample = found
    guess = guess_encoding(sample) if codec == "utf-8" else "check the encoding"
    return UnreadableFileError(
        f"{path.name}: line {line:,} (byte {offset:,}) is not valid {codec} text; "
        f"the file {guess} (load_tables(encoding=...) in Python)."
    )


def check_utf8(path: Path) -> None:
    """Refuse a file that is not UTF-8 throughout, naming the first bad line.

    Checked before Arrow parses the file: Arrow cannot report a malformed row
    whose bytes are not UTF-8 (it prints an ignored exception instead).
    """
    found = _first_bad_byte(path, "utf-8")
    if found is not None:
        raise _encoding_error(path, "utf-8", found)


def read_header(path: Path, *, encoding: str) -> tuple[list[str], str]:
    """Header names and delimiter of a CSV file, from at most 1 MiB of it.

    Raises
    ------
    UnreadableFileError
        The header is not text in ``encoding``, holds NUL bytes, or has no end
        within :data:`MAX_HEADER_BYTES`.
    """
    size = check_readable(path)
    with path.open("rb") as fh:
        head = fh.read(MAX_HEADER_BYTES)
    whole = len(head) == size
    if codecs.lookup(encoding).name == "utf-8":
        end = head.find(b"\n")
        line = head if end < 0 else head[:end]
        if line.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in line[:4096]:
            raise UnreadableFileError(
                f"{path.name}: the header is not UTF-8 text; the file "
                f"{guess_encoding(head)}."
            )
        if end < 0 and not whole:
            raise _no_header_end(path, size)
        try:
            text = line.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise _encoding_error(path, encoding) from None
    else:
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            text = decoder.decode(head, final=whole)
        except UnicodeError:
            raise _encoding_error(path, encoding) from None
        end = text.find("\n")
        if end < 0 and not whole:
            raise _no_header_end(path, size)
        text = text if end < 0 else text[:end]
    if "\x00" in text:
        raise UnreadableFileError(
            f"{path.name}: the header holds NUL characters; this is not a text CSV "
            "file in the given encoding."
        )
    # A carriage return ends a row too (as for Arrow's reader, which reads the
    # rows): a file with old Mac line ends has its header before the first one.
    text = text.split("\r", 1)[0].rstrip("\n").lstrip("\ufeff")
    delimiter = "\t" if text.count("\t") > text.count(",") else ","
    try:
        names = next(csv.reader(io.StringIO(text), delimiter=delimiter), [])
    except csv.Error as err:
        raise UnreadableFileError(
            f"{path.name}: the header line is not readable as CSV ({err})."
        ) from None
    return [n.replace("\ufeff", "") for n in names], delimiter


def _no_header_end(path: Path, size: int) -> UnreadableFileError:
    return UnreadableFileError(
        f"{path.name}: no end of the header line in the first "
        f"{MAX_HEADER_BYTES:,} bytes (of {size:,}); this is not a CSV file with a "
        "header row."
    )


def read_csv_rows(
    path: Path,
    names: Sequence[str],
    *,
    delimiter: str,
    encoding: str,
    column_types: dict[str, pa.DataType],
) -> tuple[pa.Table, list[MalformedRow]]:
    """Every well-formed row of a CSV file as text, and the malformed rows apart.

    A row with more or fewer fields than the header (a whitespace-only line is
    one field) is returned as a :class:`MalformedRow` with its 1-based row
    number (header not counted); the table holds the other rows in order.

    Raises
    ------
    UnreadableFileError
        Bytes not in ``encoding``, a single row longer than 16 MiB, or a file the
        CSV reader cannot parse at all.
    """
    codec = codecs.lookup(encoding).name
    wide = _wide(codec)
    if codec == "utf-8":
        check_utf8(path)
    for threads in (True, False):
        bad: list[tuple[int | None, int, int, str]] = []

        def keep(row, bad=bad) -> str:
            bad.append((row.number, row.actual_columns, row.expected_columns, row.text))
            return "skip"

        try:
            table = pacsv.read_csv(
                _source(path, codec),
                read_options=pacsv.ReadOptions(
                    encoding="utf8" if codec == "utf-8" or wide else encoding,
                    block_size=BLOCK_BYTES,
                    use_threads=threads,
                ),
                parse_options=pacsv.ParseOptions(
                    delimiter=delimiter, invalid_row_handler=keep
                ),
                convert_options=pacsv.ConvertOptions(
                    column_types={n: column_types.get(n, pa.string()) for n in names},
                    strings_can_be_null=False,
                ),
            )
        except UnicodeError:
            raise _encoding_error(path, encoding) from None
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError) as exc:
            raise _csv_error(path, encoding, exc) from None
        # With threads the reader does not know row numbers; read again without.
        if all(number is not None for number, *_ in bad):
            break
    at = [n.replace("\ufeff", "").strip().lower() for n in names]
    pid_at = at.index("patient_id") if "patient_id" in at else None
    rows = [
        MalformedRow(
            row=int(number) - 1 if number is not None else 0,
            fields=fields,
            expected=expected,
            text=text if len(text) <= MAX_VALUE_CHARS else text[:MAX_VALUE_CHARS] + "…",
            patient_id=_field(text, pid_at, delimiter),
        )
        for number, fields, expected, text in bad
    ]
    return table, rows


def _field(text: str, at: int | None, delimiter: str) -> str | None:
    """Field ``at`` of one CSV row's text (trimmed; empty -> None)."""
    if at is None:
        return None
    fields = next(csv.reader(io.StringIO(text[: 1 << 16]), delimiter=delimiter), [])
    value = fields[at].strip() if at < len(fields) else ""
    return value or None


def _wide(codec: str) -> bool:
    """A multi-byte encoding other than UTF-8 (UTF-16, UTF-32, ...)."""
    return codec != "utf-8" and len("a".encode(codec)) > 1


def _source(path: Path, codec: str) -> Path | pa.BufferReader:
    """What the CSV reader reads: the file, or its text re-encoded as UTF-8.

    Arrow transcodes single-byte encodings block by block, but splits UTF-16
    and UTF-32 between blocks; those files are decoded here whole.
    """
    if not _wide(codec):
        return path
    try:
        text = path.read_bytes().decode(codec)
    except UnicodeError:
        raise _encoding_error(path, codec) from None
    return pa.BufferReader(text.lstrip("\ufeff").encode("utf-8"))


def _csv_error(path: Path, encoding: str, exc: Exception) -> UnreadableFileError:
    text = str(exc)
    if "invalid UTF8" in text or "UTF8" in text:
        return _encoding_error(path, encoding)
    if "straddl" in text:
        return UnreadableFileError(
            f"{path.name}: a row is longer than {BLOCK_BYTES:,} bytes (a field with "
            "no end, or a file that is not CSV)."
        )
    if isinstance(exc, OSError):
        return UnreadableFileError(
            f"{path.name}: reading failed ({type(exc).__name__}: "
            f"{getattr(exc, 'strerror', None) or 'I/O error'})."
        )
    # Arrow's own message may quote the row: name the kind of error only.
    return UnreadableFileError(
        f"{path.name}: cannot be parsed as CSV ({type(exc).__name__})."
    )


def parquet_schema(path: Path) -> pa.Schema:
    """The Arrow schema of a Parquet file, refusing what is not Parquet.

    Raises
    ------
    UnreadableFileError
        No Parquet magic bytes at the start (CSV named ``.parquet``?) or the end
        (truncated), or a footer that cannot be read.
    """
    size = check_readable(path)
    with path.open("rb") as fh:
        head = fh.read(4)
        if size >= 8:
            fh.seek(size - 4)
        tail = fh.read(4)
    if head != _PARQUET_MAGIC:
        raise UnreadableFileError(
            f"{path.name} is not a Parquet file (it does not start with the Parquet "
            "magic bytes); is it a CSV file named .parquet?"
        )
    if size < 12 or tail != _PARQUET_MAGIC:
        raise UnreadableFileError(
            f"{path.name}: the Parquet file is truncated (it does not end with the "
            f"Parquet magic bytes; {size:,} bytes). Copy it again from the source."
        )
    try:
        return pq.read_schema(path)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise UnreadableFileError(
            f"{path.name}: the Parquet footer cannot be read ({type(exc).__name__}); "
            "the file is damaged."
        ) from None


def read_parquet(
    path: Path, *, columns: Sequence[str], dictionary: Sequence[str]
) -> pa.Table:
    """``columns`` of a Parquet file; a damaged file is one clear error."""
    try:
        table = pq.read_table(
            path, columns=list(columns), read_dictionary=list(dictionary)
        )
    except (pa.ArrowException, OSError, ValueError, IndexError) as exc:
        raise UnreadableFileError(
            f"{path.name}: the Parquet data cannot be read ({type(exc).__name__}); "
            "the file is truncated or damaged."
        ) from None
    try:  # Parquet readers do not check that text is UTF-8 (nor list items)
        table.validate(full=True)
    except pa.ArrowInvalid:
        raise UnreadableFileError(
            f"{path.name}: a text column holds bytes that are not UTF-8 (or the "
            "file is damaged); write the text as UTF-8."
        ) from None
    return table
