"""Telegram updates to core events. Pure functions: no network, no database."""

from __future__ import annotations

from dataclasses import dataclass

from telegram import (
    CallbackQuery,
    Chat,
    ChatMember,
    ChatMemberUpdated,
    Message,
    MessageEntity,
    PollAnswer,
    Update,
    User,
)

from core import (
    ButtonPressed,
    ChatKind,
    ChatRef,
    CommandInvoked,
    Event,
    MemberJoined,
    MemberLeft,
    MessageReceived,
    MessageRef,
    PollAnswered,
    Sender,
    UserRef,
    parse_command_line,
)

__all__ = [
    "PLATFORM",
    "BotIdentity",
    "chat_ref",
    "dm_chat",
    "lock_key",
    "sender",
    "update_events",
]

PLATFORM = "telegram"

_PRESENT = frozenset({ChatMember.MEMBER, ChatMember.ADMINISTRATOR, ChatMember.OWNER})


@dataclass(frozen=True, slots=True)
class BotIdentity:
    """Who the bot is (from getMe): commands addressed to another bot are not ours."""

    id: int
    username: str | None


def sender(user: User) -> Sender:
    return Sender(
        UserRef(PLATFORM, str(user.id)),
        user.full_name,
        user.username,
        user.language_code,
        user.is_bot,
    )


def dm_chat(user_id: int | str, title: str | None = None) -> ChatRef:
    """The private chat with a user (its id is the user's id on Telegram)."""
    return ChatRef(PLATFORM, str(user_id), ChatKind.DM, title=title)


def chat_ref(chat: Chat, thread_id: int | None = None) -> ChatRef:
    """Groups and supergroups are GROUP (``thread`` = forum topic id); private chats DM."""
    if chat.type == Chat.PRIVATE:
        return dm_chat(chat.id, chat.full_name or chat.username)
    return ChatRef(
        PLATFORM,
        str(chat.id),
        ChatKind.GROUP,
        title=chat.title,
        thread=str(thread_id) if thread_id else None,
    )


def _message_chat(message: Message) -> ChatRef:
    # message_thread_id is also set on reply threads of ordinary supergroups; only forum
    # topics are threads in the core's sense.
    topic = message.message_thread_id if message.is_topic_message else None
    return chat_ref(message.chat, topic)


def chat_key(message: Message) -> str:
    """``_message_chat(message).key`` without building the ChatRef (the lean path)."""
    topic = message.message_thread_id if message.is_topic_message else None
    return f"{PLATFORM}:{message.chat.id}/{topic}" if topic else f"{PLATFORM}:{message.chat.id}"


def message_ref(message: Message) -> MessageRef:
    return MessageRef(_message_chat(message), str(message.message_id))


def lock_key(update: Update) -> str:
    """Updates with the same key are handled in order (one chat, or one voter)."""
    if update.effective_chat is not None:
        return f"c{update.effective_chat.id}"
    if update.effective_user is not None:
        return f"u{update.effective_user.id}"
    return f"x{update.update_id}"


def update_events(update: Update, me: BotIdentity) -> list[Event]:
    """The core events one update stands for (none for what the core doesn't handle:
    edited messages, channel posts, inline queries...)."""
    if update.message is not None:
        return _message_events(update.message, me)
    if update.callback_query is not None:
        pressed = _button(update.callback_query)
        return [pressed] if pressed else []
    if update.chat_member is not None:
        change = _membership(update.chat_member, me)
        return [change] if change else []
    if update.poll_answer is not None:
        vote = _vote(update.poll_answer)
        return [vote] if vote else []
    return []


def _message_events(message: Message, me: BotIdentity) -> list[Event]:
    chat = _message_chat(message)
    at = message.date
    if message.new_chat_members:
        return [
            MemberJoined(user=sender(u), chat=chat, at=at)
            for u in message.new_chat_members
            if not u.is_bot
        ]
    if message.left_chat_member is not None:
        gone = message.left_chat_member
        return [] if gone.is_bot else [MemberLeft(user=sender(gone), chat=chat, at=at)]
    author = message.from_user
    if author is None or author.is_bot or message.sender_chat is not None:
        # Channel posts relayed into a group and anonymous admins have no member behind them.
        return []
    text = message.text if message.text is not None else message.caption
    if not text:
        return []
    reply_to, reply_user = _reply(message)
    ref = MessageRef(chat, str(message.message_id))
    who = sender(author)
    if _starts_with_command(message):
        parsed = parse_command_line(text, me.username)
        if parsed is not None:
            name, args = parsed
            return [
                CommandInvoked(
                    user=who,
                    chat=chat,
                    at=at,
                    name=name,
                    args=args,
                    message=ref,
                    reply_to=reply_to,
                    reply_to_user=reply_user,
                )
            ]
        if "@" in text.split(maxsplit=1)[0]:
            return []  # /cmd@OtherBot is another bot's business
    return [
        MessageReceived(
            user=who,
            chat=chat,
            at=at,
            text=text,
            message=ref,
            reply_to=reply_to,
            reply_to_user=reply_user,
        )
    ]


def _starts_with_command(message: Message) -> bool:
    """Telegram marks commands with a bot_command entity; "/home/amir" typed as text is not
    one (clients mark only valid command names)."""
    entities = message.entities if message.text is not None else message.caption_entities
    return any(e.type == MessageEntity.BOT_COMMAND and e.offset == 0 for e in entities)


def _reply(message: Message) -> tuple[MessageRef | None, Sender | None]:
    original = message.reply_to_message
    # In forum topics every message "replies" to the topic's creation message.
    if original is None or original.forum_topic_created is not None:
        return None, None
    who = sender(original.from_user) if original.from_user is not None else None
    return MessageRef(_message_chat(original), str(original.message_id)), who


def _button(query: CallbackQuery) -> ButtonPressed | None:
    if not query.data:
        return None
    shown = query.message
    if shown is not None:
        topic = getattr(shown, "message_thread_id", None)
        is_topic = bool(getattr(shown, "is_topic_message", False))
        chat = chat_ref(shown.chat, topic if is_topic else None)
        ref: MessageRef | None = MessageRef(chat, str(shown.message_id))
    else:
        chat, ref = dm_chat(query.from_user.id, query.from_user.full_name), None
    return ButtonPressed(user=sender(query.from_user), chat=chat, key=query.data, message=ref)


def _membership(update: ChatMemberUpdated, me: BotIdentity) -> Event | None:
    user = update.new_chat_member.user
    if user.is_bot or user.id == me.id:
        return None
    was = _is_present(update.old_chat_member)
    now = _is_present(update.new_chat_member)
    chat = chat_ref(update.chat)
    if now and not was:
        return MemberJoined(user=sender(user), chat=chat, at=update.date)
    if was and not now:
        return MemberLeft(user=sender(user), chat=chat, at=update.date)
    return None


def _is_present(member: ChatMember) -> bool:
    if member.status in _PRESENT:
        return True
    if member.status == ChatMember.RESTRICTED:
        return bool(getattr(member, "is_member", False))
    return False


def _vote(answer: PollAnswer) -> PollAnswered | None:
    if answer.user is None:  # a vote cast on behalf of a chat (anonymous admin)
        return None
    return PollAnswered(
        user=sender(answer.user),
        chat=dm_chat(answer.user.id, answer.user.full_name),
        poll_id=answer.poll_id,
        options=tuple(answer.option_ids),
    )
