"""Stories: one alert per story, however many accounts and platforms repeat it.

Pure core, no I/O and no clock (`now` is a parameter). Every stored post belongs to exactly one
story. A new post joins the story of a post seen within the window (default 72 h) when it is the
same text or a near copy of it; otherwise it starts a story. The modules:

- `text`: `relay_normalize` undoes what relays do (prefixes like "JUST IN:" or "RT @x:",
  bylines like "— Donald J. Trump Posts From His Truth Social", links, truncation, case,
  quotes, emoji, HTML remnants, boilerplate such as "Follow us on Telegram"); `article_urls`
  names the articles a post links.
- `links`: `canonical_url` reduces a link to the article it names; never raises.
- `keys`: `fingerprint(post)` and its `index_keys`: winnowed 8-word shingle hashes (windows
  of 4), so any 11-word run two posts share gives them a shared key (near copies, truncations
  and quotes, wherever they sit), plus whole-text and link keys. Stable signed 64-bit integers.
  `NO_FINGERPRINT` stands in for a post whose fingerprint failed: no keys, a story of its own.
- `match`: `choose_story` / `choose_stories` verify candidates on word 3-grams and an
  alignment that tells a relay (added to or cut at the edges) from a post that merely shares a
  formula or a footer, with deterministic tie-breaks.
- `index`: `MemoryStoryIndex`, the key → posts lookup the SQL store mirrors, with an
  `assign(post, now)` that numbers new stories.
- `carrier`: `carrier_label`, who carried a post, for "Also posted by: …".

How the store uses it, per poll, in the poll's transaction:
    fps = [fingerprint(p) for p in new_posts]
    rows = lookup({k for fp in fps for k in index_keys(fp)}, now)      # see bot.stories.index
    candidates = [StoryCandidate(r.story_id, fingerprint(r.post), r.seen_at) for r in rows]
    for post, fp, choice in zip(new_posts, fps, choose_stories(fps, candidates, now=now)): ...
        # choice.story_id: join it; else the story new in this batch started by post
        # choice.new_story (itself when new_story is its own index); then insert its key rows.

Measured with bench/bench_stories.py (seeded synthetic set, see its docstring): recall of
planted relays 0.998 and precision of joins 0.999, where an exact hash of the casefolded text
finds 0.07 of the relays; each threshold's own measurement is at its definition.

May import: bot.model and bot.classify.text (the one text folding). No I/O, no config.
"""
