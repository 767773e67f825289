"""MovieLens loaders: the paper's ML-1M protocol (`ml1m`) and TALLRec's ML-100K protocol (`ml100k`).

    from reasoningrec.data import load_dataset
    ds = load_dataset("ml1m", "../shared/data")      # 3,883 items, 6,040 samples per split
    ds = load_dataset("ml100k", "../shared/data")    # 1,682 items, 943 users

The GroupLens file readers here (movies.dat is latin-1, users.dat, ratings.dat) are shared with
splits.py, which rebuilds the ML-1M split from a ratings.dat with timestamps.
"""
from __future__ import annotations

import re
from pathlib import Path

from .outputs import attach_outputs
from .readers import gc_paused, parse_id_list, parse_int, read_csv_rows, read_dat, read_text
from .schema import SPLITS, DataError, Dataset, HistoryEntry, Interaction, Item, Sample, User

ML1M_AGES = {"1": "under 18 years of age", "18": "between 18 to 24 years of age",
             "25": "between 25 to 34 years of age", "35": "between 35 to 44 years of age",
             "45": "between 45 to 49 years of age", "50": "between 50 to 55 years of age",
             "56": "above 56 years of age"}
ML1M_OCCUPATIONS = ["unknown", "academic/educator", "artist", "clerical/admin",
                    "college/grad student", "customer service", "doctor/health care",
                    "executive/managerial", "farmer", "homemaker", "k-12 student", "lawyer",
                    "programmer", "retired", "sales/marketing", "scientist", "self-employed",
                    "technician/engineer", "tradesman/craftsman", "unemployed", "writer"]
ML100K_GENRES = ["unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
                 "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery",
                 "Romance", "Sci-Fi", "Thriller", "War", "Western"]
LATIN1_HINT = "GroupLens ships this file as latin-1 (ISO-8859-1); restore the original file"
_TITLE_YEAR = re.compile(r"^(.*?)\s*\((\d{4})\)\s*$")


def split_title_year(title: str) -> tuple[str, str]:
    """'Toy Story (1995)' -> ('Toy Story', '1995'); a title without a year keeps year ''."""
    match = _TITLE_YEAR.match(title)
    return (match.group(1), match.group(2)) if match else (title.strip(), "")


# ---- GroupLens ML-1M .dat files ----------------------------------------------------------
def read_ml1m_movies(path: Path) -> dict[str, Item]:
    """movies.dat (`MovieID::Title (Year)::Genre|Genre`, latin-1) -> items with year and genres."""
    items = {}
    for line_no, (movie_id, title, genres) in read_dat(path, 3, "latin-1", hint=LATIN1_HINT):
        name, year = split_title_year(title)
        attributes = {"year": year, "genres": ", ".join(g for g in genres.split("|") if g)}
        items[movie_id] = Item(movie_id, name, {k: v for k, v in attributes.items() if v})
    return items


def ml1m_demographics(gender: str, age: str, occupation: str, path: Path, line: int) -> str:
    """The paper's sentence, e.g. 'female k-12 student under 18 years of age' (users.csv)."""
    occ = parse_int(occupation, path, line, "occupation")
    if gender not in ("F", "M") or age not in ML1M_AGES or not 0 <= occ < len(ML1M_OCCUPATIONS):
        raise DataError(path, f"unknown gender/age/occupation code {gender!r}/{age!r}/{occ}", line)
    return f"{'female' if gender == 'F' else 'male'} {ML1M_OCCUPATIONS[occ]} {ML1M_AGES[age]}"


def read_ml1m_users(path: Path) -> dict[str, User]:
    """users.dat (`UserID::Gender::Age::Occupation::Zip-code`) -> users with a demographics line."""
    return {uid: User(uid, ml1m_demographics(g, age, occ, path, line_no))
            for line_no, (uid, g, age, occ, _zip) in read_dat(path, 5, "latin-1", hint=LATIN1_HINT)}


def read_ml1m_ratings(path: Path, items: dict[str, Item] | None = None) -> list[Interaction]:
    """ratings.dat (`UserID::MovieID::Rating::Timestamp`) or ratings_no_timestamp.dat (3 fields).
    A fast pass converts everything at once; on any problem a checking pass names the line."""
    with_time = not path.name.startswith("ratings_no_timestamp")
    n_fields = 4 if with_time else 3
    try:  # column-wise with map(): the fast path for 1M lines
        rows = [line.split("::") for line in read_text(path).splitlines() if line]
        if set(map(len, rows)) - {n_fields} or (items is not None and
                                                not set(r[1] for r in rows) <= items.keys()):
            raise ValueError
        cols = list(zip(*rows)) or [()] * n_fields
        stamps = map(int, cols[3]) if with_time else [None] * len(rows)
        return list(map(Interaction, cols[0], cols[1], map(float, map(int, cols[2])), stamps))
    except ValueError:
        pass
    for line_no, fields in read_dat(path, n_fields):  # slow pass: raises with file and line
        if items is not None and fields[1] not in items:
            raise DataError(path, f"unknown movie id {fields[1]!r}", line_no)
        parse_int(fields[2], path, line_no, "rating")
        if with_time:
            parse_int(fields[3], path, line_no, "timestamp")
    raise DataError(path, "malformed ratings file")  # not reached: the slow pass raised


def _add_extrainfos(items: dict[str, Item], path: Path) -> int:
    """OMDb plot and director from movies_extrainfos.dat (UTF-8, CRLF); returns items enriched."""
    enriched = 0
    for line_no, fields in read_dat(path, 11, "utf-8"):
        movie_id, plot, director = fields[0], fields[9].strip(), fields[6].strip()
        if movie_id not in items:
            raise DataError(path, f"unknown movie id {movie_id!r}", line_no)
        extra = {k: v for k, v in (("plot", plot), ("director", director)) if v and v != "N/A"}
        if extra:
            item = items[movie_id]
            items[movie_id] = Item(item.id, item.title, {**item.attributes, **extra})
            enriched += 1
    return enriched


def ml1m_items(root: Path, report: dict[str, int], grouplens: Path | None = None
               ) -> dict[str, Item]:
    """Items from the paper's movie_summary_25_words.csv, else GroupLens movies.dat; plus OMDb
    plots when movielens-1m/movies_extrainfos.dat is there. Attribute order: year, genres,
    description, plot, director. `grouplens` is the folder of the .dat files."""
    grouplens = grouplens or root / "movielens-1m"
    summary = root / "reasoningrec" / "ml_1m" / "movie_summary_25_words.csv"
    movies_dat = grouplens / "movies.dat"
    items: dict[str, Item] = {}
    if summary.is_file() or not movies_dat.is_file():
        cols = ["movie_id", "name", "cleaned_genre", "year", "summary"]
        unquoted = 0
        for line_no, row in read_csv_rows(summary, cols):
            movie_id = str(parse_int(row["movie_id"], summary, line_no, "movie_id"))
            text = row["summary"].strip()
            if len(text) > 1 and text[0] == text[-1] == '"':  # the LLM wrapped some in quotes
                text, unquoted = text[1:-1].strip(), unquoted + 1
            genres = ", ".join(g.strip() for g in row["cleaned_genre"].split(",") if g.strip())
            attributes = {"year": row["year"].strip(), "genres": genres, "description": text}
            items[movie_id] = Item(movie_id, row["name"].strip(),
                                   {k: v for k, v in attributes.items() if v})
        report["descriptions_unquoted"] = unquoted
    else:
        items = read_ml1m_movies(movies_dat)
    extrainfos = grouplens / "movies_extrainfos.dat"
    if extrainfos.is_file():
        report["items_with_plot"] = _add_extrainfos(items, extrainfos)
    return items


def _ctr_samples(path: Path, dataset: str, split: str, items: dict[str, Item]) -> list[Sample]:
    """One ctr/*.csv of the paper: `user,history_item_id,history_rating,item_id,rating,...`."""
    cols = ["user", "history_item_id", "history_rating", "item_id", "rating"]
    samples, seen = [], set()
    for line_no, row in read_csv_rows(path, cols):
        user = str(parse_int(row["user"], path, line_no, "user"))
        history = parse_id_list(row["history_item_id"], path, line_no, "history_item_id")
        liked = parse_id_list(row["history_rating"], path, line_no, "history_rating")
        if len(history) != len(liked):
            raise DataError(path, f"{len(history)} history items but {len(liked)} ratings", line_no)
        if not set(liked).union([row["rating"].strip()]) <= {"0", "1"}:
            raise DataError(path, "ratings must be 0 or 1", line_no)
        target = row["item_id"].strip()
        unknown = [i for i in history + [target] if i not in items]
        if unknown:
            raise DataError(path, f"unknown item id {unknown[0]!r}", line_no)
        if user in seen:
            raise DataError(path, f"second sample for user {user} (one per user expected)", line_no)
        seen.add(user)
        samples.append(Sample(dataset, split, user,
                              tuple(HistoryEntry(i, v == "1") for i, v in zip(history, liked)),
                              target, int(row["rating"]), key=user))
    return samples


@gc_paused
def load_ml1m(root: Path) -> Dataset:
    """The paper's ML-1M protocol from <root>/reasoningrec/ml_1m/ (see module docstring)."""
    root, report = Path(root), {}
    folder = root / "reasoningrec" / "ml_1m"
    items = ml1m_items(root, report)
    users_csv = folder / "users.csv"
    users = {}
    for line_no, row in read_csv_rows(users_csv, ["user_id", "user_profile"]):
        uid = str(parse_int(row["user_id"], users_csv, line_no, "user_id"))
        users[uid] = User(uid, row["user_profile"].strip())
    splits = {s: _ctr_samples(folder / "ctr" / f"{s}.csv", "ml1m", s, items) for s in SPLITS}
    for split, samples in splits.items():
        missing = sorted({s.user_id for s in samples} - users.keys())
        if missing:
            raise DataError(folder / "ctr" / f"{split}.csv",
                            f"{len(missing)} user(s) not in users.csv, e.g. {missing[:3]}")
    ratings = [root / "movielens-1m" / n for n in ("ratings.dat", "ratings_no_timestamp.dat")]
    found = [p for p in ratings if p.is_file()]
    interactions = read_ml1m_ratings(found[0], items) if found else []
    return attach_outputs(Dataset("ml1m", "movie", items, users, splits, interactions, report),
                          folder)


# ---- ML-100K (TALLRec protocol) ----------------------------------------------------------
TALLREC_HISTORY = 10  # TALLRec preprocess_movie.py: seq_len = 10
TALLREC_KEEP = 10_000  # ... sequential_interaction_list[-10000:]


def _read_atomic(path: Path, required: list[str]) -> list[tuple[int, dict[str, str]]]:
    """A RecBole atomic file: tab-separated, header `name:type` (e.g. `user_id:token`)."""
    rows = list(read_dat(path, None, "utf-8", sep="\t"))
    if not rows:
        raise DataError(path, "empty file: no header row", 1)
    header = [h.split(":")[0] for h in rows[0][1]]
    missing = [c for c in required if c not in header]
    if missing:
        raise DataError(path, f"missing column(s) {missing}; header is {header}", 1)
    return [(line_no, dict(zip(header, fields))) for line_no, fields in rows[1:]]


def _ml100k_grouplens(folder: Path):
    """u.data (tab: user item rating timestamp), u.item (| , latin-1, 19 genre flags), u.user."""
    items = {}
    for line_no, f in read_dat(folder / "u.item", 24, "latin-1", sep="|", hint=LATIN1_HINT):
        if any(flag not in ("0", "1") for flag in f[5:]):
            raise DataError(folder / "u.item", "genre flags must be 0 or 1", line_no)
        title, year = split_title_year(f[1])
        genres = ", ".join(g for g, flag in zip(ML100K_GENRES, f[5:]) if flag == "1")
        year = year or f[2][-4:]  # release date like 01-Jan-1995
        items[f[0]] = Item(f[0], title, {k: v for k, v in (("year", year), ("genres", genres)) if v})
    users = {f[0]: User(f[0], _ml100k_demographics(f[1], f[2], f[3]))
             for _, f in read_dat(folder / "u.user", 5, "latin-1", sep="|")}
    ratings = [(n, f) for n, f in read_dat(folder / "u.data", 4, "utf-8", sep="\t")]
    return items, users, folder / "u.data", ratings


def _ml100k_recbole(folder: Path):
    """ml-100k.{inter,item,user} in RecBole's atomic format."""
    items = {}
    for _, row in _read_atomic(folder / "ml-100k.item", ["item_id", "movie_title"]):
        attributes = {"year": row.get("release_year", "").strip(),
                      "genres": ", ".join(row.get("class", "").split())}
        items[row["item_id"]] = Item(row["item_id"], row["movie_title"].strip(),
                                     {k: v for k, v in attributes.items() if v})
    users = {r["user_id"]: User(r["user_id"], _ml100k_demographics(
                 r.get("age", ""), r.get("gender", ""), r.get("occupation", "")))
             for _, r in _read_atomic(folder / "ml-100k.user", ["user_id"])}
    inter = folder / "ml-100k.inter"
    cols = ["user_id", "item_id", "rating", "timestamp"]
    ratings = [(n, [r[c] for c in cols]) for n, r in _read_atomic(inter, cols)]
    return items, users, inter, ratings


def _ml100k_demographics(age: str, gender: str, occupation: str) -> str:
    """'male technician, 24 years old' (fields the file lacks are left out)."""
    who = " ".join(p for p in ({"F": "female", "M": "male"}.get(gender, ""), occupation) if p)
    return ", ".join(p for p in (who, f"{age} years old" if age else "") if p)


@gc_paused
def load_ml100k(root: Path) -> Dataset:
    """TALLRec's ML-100K protocol, following SAI990323/TALLRec preprocess_movie.py: per user (in
    order of first appearance in u.data) ratings sorted by timestamp; for each position i >= 10 a
    sample with the 10 previous items as history (liked = rating > 3) and item i as target
    (label = rating > 3); keep the last 10,000 samples of that list; first 80% train, next 10%
    valid, last 10% test. RecBole's ml-100k.inter keeps u.data's row order, so both give the
    same samples."""
    root, report = Path(root), {}
    folders = [root / "movielens-100k", root / "ml-100k"]
    folder = next((f for f in folders if (f / "u.data").is_file()
                   or (f / "ml-100k.inter").is_file()), None)
    if folder is None:
        raise DataError(folders[0], "no ML-100K files (u.data/u.item/u.user or RecBole "
                                    "ml-100k.inter/.item/.user) here or in ../ml-100k")
    reader = _ml100k_grouplens if (folder / "u.data").is_file() else _ml100k_recbole
    items, users, ratings_path, ratings = reader(folder)
    per_user: dict[str, list[tuple[int, str, int]]] = {}
    interactions = []
    for line_no, (user, item, rating, ts) in ratings:
        if item not in items:
            raise DataError(ratings_path, f"unknown item id {item!r}", line_no)
        if user not in users:
            raise DataError(ratings_path, f"unknown user id {user!r}", line_no)
        value = parse_int(rating.split(".")[0], ratings_path, line_no, "rating")
        stamp = parse_int(ts.split(".")[0], ratings_path, line_no, "timestamp")
        per_user.setdefault(user, []).append((stamp, item, value))
        interactions.append(Interaction(user, item, float(value), stamp))
    positions = []  # (user, index of the target in the user's sorted events)
    for user, events in per_user.items():
        events.sort(key=lambda e: e[0])  # stable, as Python's sorted in TALLRec
        if len(events) <= TALLREC_HISTORY:
            report["users_with_too_few_ratings"] = report.get("users_with_too_few_ratings", 0) + 1
        positions += [(user, i) for i in range(TALLREC_HISTORY, len(events))]
    report["samples_before_last_10000"] = len(positions)
    report["samples_dropped_older"] = max(0, len(positions) - TALLREC_KEEP)
    positions = positions[-TALLREC_KEEP:]
    entries = {u: [HistoryEntry(it, r > 3) for _, it, r in ev] for u, ev in per_user.items()}
    cut1, cut2 = int(len(positions) * 0.8), int(len(positions) * 0.9)
    bounds = {"train": (0, cut1), "valid": (cut1, cut2), "test": (cut2, len(positions))}
    splits = {s: [Sample("ml100k", s, u, tuple(entries[u][i - TALLREC_HISTORY:i]),
                         per_user[u][i][1], int(per_user[u][i][2] > 3), key=f"{u}:{i}")
                  for u, i in positions[a:b]] for s, (a, b) in bounds.items()}
    return Dataset("ml100k", "movie", items, users, splits, interactions, report)
