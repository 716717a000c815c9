// Package formulate turns one user's kept history (tasks.User, records
// already filtered, PII-scrubbed and time-ordered) and its synthesised
// tasks.Artifacts into chat-messages SFT samples, one Formulator per task
// kind (../../shared/notes/humanllm-method.md §5).
//
// Every sample is [system?, user, assistant]: the system message is
// Config.SystemPrompt (DefaultSystemPrompt; "" for none, the paper's form),
// the user message the prompt, the assistant message the target. Task is
// "<kind>.<variant>", Source is User.Source and User is User.ID (the salted
// hash; display names never reach a prompt).
//
// Kinds and variants:
//
//   - action.comment / action.review / action.post: the user's next record.
//     Prompt: description, the History records just before the target
//     (oldest first, each cut to HistoryWords words, with its date when
//     known and, for comments, the first 30 words of what it replied to), the target's date and context: the post it replies to
//     (ParentText) for action.comment; the item (ItemTitle, else
//     FallbackTitle(ItemID)), category and rating for action.review; the
//     community (and the thread title for comments without ParentText) for
//     action.post. Target: the text; when the user wrote a title (posts,
//     reviews, blog posts, never comments) the target is
//     "Title: <title>\n\n<text>" and the prompt asks for that form, because
//     choosing the title is part of what the person does. One sample per
//     record after the first MinHistory, the latest MaxPerUser.
//   - thought.scenario: description + Thought.Scenario + a question (one of
//     three, drawn) -> Thought.Thought; thoughts of the latest records
//     first, MaxPerUser of them; a thought already inside its scenario is
//     skipped.
//   - style.imitation (paper type 1): 1 to History past posts (drawn) +
//     Topics[i] -> the post; style.continuation (type 2): past posts + the
//     first 30-70% of the post's words (split point drawn) -> the rest;
//     style.description (type 3, when Artifacts.Style is set): style
//     description + topic -> the post. Targets are the text without its
//     title (the topic stands in for it), of MinWords to MaxWords words
//     (for continuation both the post and the rest, which bounds the
//     split point further). Records newest first, the
//     variants taking turns so one post feeds one variant, MaxPerUser per
//     variant.
//   - profile.history2profile: the latest History records -> Profile (at
//     least MinHistory records); profile.persona2profile (paper #1):
//     Persona -> Profile when both exist and differ.
//   - item_selection (paper #19; users whose records carry ItemID): the
//     target is the user's last review (records are already quality
//     filtered, so the paper's "last passing review if index >= 7, else the
//     last" is the last one); the prompt lists the titles of the latest
//     History distinct items reviewed before it (at least MinHistory) and
//     Candidates titles: the target and Candidates-1 negatives from
//     Catalog.Sample in the target's category (Record.Community), filled up
//     from the whole catalog, none reviewed by the user and no two with the
//     same title (case-insensitive), shuffled with rng. The answer is the
//     exact title. History-only prompts unless DescMix. Items without a
//     title are shown as FallbackTitle ("item <ItemID>").
//
// Generative prompts end in "Please write about {num} words", {num} the
// target's words rounded to the nearest 10 (at least 10). Demographics
// (age, gender, industry, star sign) appear only when explicit in
// User.Meta. The description is the persona or the profile, drawn when both
// exist (the paper's "desc"); none when neither does.
//
// Determinism: a formulator draws only from the rng it is given, in a fixed
// order, and New builds formulators in the order of Kinds, so with the
// caller's per-user PCG source (seed, user hash) the samples of a user do
// not depend on the order users are processed in. The target record is
// never in its own prompt's history: histories are records strictly before
// the target.
package formulate
