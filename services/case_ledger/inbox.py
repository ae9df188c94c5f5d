"""The ledger's inbox: reads the command and result streams in stream order, from its own position.

The position is the tracking record saved with each change, so the ledger needs no acks and
nothing the bus redelivers can be applied twice: a message at or below the position is skipped.
What one fetch brings is applied case by case in memory and saved in one transaction with the
batch's last stream sequence as the tracking record (a group commit: one fsync for the batch);
positions stay exact because the streams are read in order. A message that can never be applied
goes to the dead-letter stream first and is then passed over inside its batch, so it never blocks
the messages around it. Anything else (the database is down) retries the batch, in order.

The streams map each case to a partition (a last token of the stored subject, see
services/bus/topology.py); the inbox reads one partition of a source with a filter, under a
tracking name of that partition's own (`Reading`), so that ledger workers on one store can each
hold some partitions (partition_keeper.py). With one partition it reads the whole stream under
the source's own tracking name, as a single ledger always did.

Before each (re)subscription the inbox checks that the stream is the one its position belongs
to (see followed_streams): a stream made again would otherwise be read from an old position.
Commands the ledger has recorded are then purged from the bus (see retiring).

Over 300 lines because reading, group commit, dead letters and stream checks share one loop's
state (position, batch, dead letters of the batch); what stands alone is in its own module.
"""

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import nats.errors
import structlog
from eventsourcing.persistence import IntegrityError, Tracking
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from pydantic import BaseModel

from schemas import subjects
from schemas.messages import StepResult, SubmitCase
from services.bus.codec import decode
from services.bus.dead_letters import dead_letter
from services.bus.fetching import fetch_ready
from services.bus.heartbeats import Activity
from services.bus.topology import partition_count
from services.bus.tracing import current_trace_id, extract_trace_context, tracer
from services.errors import Unprocessable
from services.failpoints import failpoint

from .application import CaseLedger
from .case_batch import CaseBatch, Filing
from .case_traces import CaseTraces
from .event_traces import stamp_trace
from .followed_streams import Sample, StreamIdentity, StreamMismatch, check_sample
from .retiring import Retirer
from .writer import LedgerThread

log = structlog.get_logger(__name__)

# How often the ledger refreshes its sample of each stream (see followed_streams).
SAMPLE_EVERY = 10.0


@dataclass(frozen=True)
class InboxSource:
    """One stream the ledger follows; `name` is its tracking name in the ledger."""

    name: str
    stream: str
    subjects: str
    pattern: str  # the subjects its messages are published on (stored with a partition token)
    model: type[BaseModel]
    apply: Callable[[CaseBatch, Any], Filing]
    # The only subject its sender may use: the server lets a channel or an entity publish on
    # its own subjects only, and this ties what a message claims about its sender to that.
    sender_subject: Callable[[Any], str]
    # Purge its messages once recorded (see retiring): commands carry personal data in clear.
    retire: bool = False


SOURCES = (
    InboxSource(
        "commands",
        subjects.COMMANDS_STREAM,
        subjects.COMMANDS_SUBJECTS,
        subjects.COMMAND_SUBMISSION,
        SubmitCase,
        lambda batch, command: batch.submit_case(command),
        lambda cmd: subjects.submit_case(cmd.envelope.actor.id, cmd.envelope.case_id),
        retire=True,
    ),
    InboxSource(
        "results",
        subjects.RESULTS_STREAM,
        subjects.RESULTS_SUBJECTS,
        subjects.RESULT_ANSWER,
        StepResult,
        lambda batch, result: batch.record_step_result(result),
        lambda result: subjects.result(result.entity, result.service, result.envelope.case_id),
    ),
)


@dataclass(frozen=True)
class Reading:
    """How the inbox reads one partition of a source: the filter, the tracking name it saves
    positions under, and the names whose positions it also starts from (what was read before
    the stream had partitions, under the source's own name)."""

    source: InboxSource
    partition: int
    filter: str
    tracking: str
    floors: tuple[str, ...] = ()

    @classmethod
    def of(cls, source: InboxSource, tracking: str, partition: int, count: int) -> "Reading":
        if count == 1:
            return cls(source, 0, source.subjects, tracking)
        return cls(
            source,
            partition,
            subjects.in_partition(source.pattern, partition),
            partition_tracking(tracking, partition),
            (tracking,),
        )


def partition_tracking(tracking: str, partition: int) -> str:
    return f"{tracking}.p{partition}"


@dataclass(frozen=True)
class BatchSaved:
    """The batch was saved (or held nothing past the position): how many messages it took."""

    messages: int


@dataclass(frozen=True)
class BatchRefused:
    """Nothing was saved: these messages can never be applied, (stream sequence, reason) each.
    Filed as dead letters, the batch is applied again without them."""

    dead: list[tuple[int, str]]


class Inbox:
    def __init__(
        self,
        ledger: CaseLedger,
        writer: LedgerThread,
        js: JetStreamContext,
        on_saved: Callable[[], None],
        batch: int = 256,
        traces: CaseTraces | None = None,
    ) -> None:
        self.ledger = ledger
        self.writer = writer
        self.js = js
        self.on_saved = on_saved
        self.batch = batch
        self.traces = traces or CaseTraces()
        self.activity = Activity()  # what the ledger's heartbeats report
        self._last_read: dict[str, Sample] = {}
        self._sampled_at: dict[str, float] = {}
        self._retirers: dict[tuple[str, int], Retirer] = {}
        # How many partitions each source's stream has (its subject mapping, read at each check).
        self.partitions: dict[str, int] = {}

    def _retirer(self, reading: Reading) -> Retirer | None:
        source = reading.source
        if not source.retire:
            return None
        key = (source.name, reading.partition)
        if key not in self._retirers:
            only = None if reading.filter == source.subjects else reading.filter
            self._retirers[key] = Retirer(self.js, source.stream, only=only)
        return self._retirers[key]

    def position(self, reading: Reading) -> int:
        """On the writer thread: how far this partition of the source has been read."""
        return max(self.ledger.position(n) for n in (reading.tracking, *reading.floors))

    async def check_stream(self, source: InboxSource) -> str:
        """The tracking name to read the source's stream under; raises `StreamMismatch`."""
        count = partition_count((await self.js.stream_info(source.stream)).config)
        self.partitions[source.name] = count
        tracked = partitions_tracked(count)
        # The positions are read before the stream's last sequence: other ledger workers keep
        # reading meanwhile, and a position read after it could be past it without anything
        # being wrong.
        before = await self.writer.run(self.ledger.source_positions, source.name, tracked)
        info = await self.js.stream_info(source.stream)
        assert info.created is not None  # nats-server 2.10+ always says
        current = StreamIdentity(
            source.stream,
            info.created.isoformat(timespec="microseconds"),
            info.state.first_seq,
            info.state.last_seq,
        )
        tracking = await self.writer.run(
            self.ledger.follow_stream, source.name, current, tracked, before
        )
        followed = await self.writer.run(self.ledger.followed_streams.get, source.name)
        sample = followed.sample if followed is not None else None
        if followed and sample and current.first_seq <= sample.seq <= current.last_seq:
            check_sample(source.name, followed, await self._message_at(source, sample.seq))
        self._sampled_at.pop(source.name, None)  # sample again at the first batch
        return tracking

    async def _message_at(self, source: InboxSource, seq: int) -> Sample | None:
        """The stream's message at `seq` as a sample; None when it is no longer there."""
        sub = await self.js.pull_subscribe(
            source.subjects,
            stream=source.stream,
            config=ConsumerConfig(
                deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
                opt_start_seq=seq,
                ack_policy=AckPolicy.NONE,
                inactive_threshold=10.0,
            ),
        )
        try:
            found = (await sub.fetch(1, timeout=5.0))[0]
        except nats.errors.TimeoutError:
            return None  # nothing left from `seq` on (deleted meanwhile)
        finally:
            await sub.unsubscribe()
        if found.metadata.sequence.stream != seq:
            return None
        return _sample_of(found)

    async def keep_samples(self) -> None:
        """Record the last message read of each source (when the ledger stops)."""
        for name, sample in self._last_read.items():
            await self.writer.run(self.ledger.followed_streams.sample, name, sample)

    async def readable(self, source: InboxSource, stop: asyncio.Event) -> str | None:
        """`check_stream`, retried while the bus cannot answer; None when stopped first."""
        while not stop.is_set():
            try:
                return await self.check_stream(source)
            except StreamMismatch:
                raise
            except Exception as exc:  # the server may be restarting, the stream not made yet
                log.warning("stream check failed", source=source.name, error=repr(exc))
                await asyncio.sleep(1.0)
        return None

    async def follow(self, source: InboxSource, stop: asyncio.Event, partition: int = 0) -> None:
        """Read `partition` of `source` until `stop` (with one partition: the whole stream)."""
        retirers: list[Retirer] = []
        try:
            await self._follow(source, stop, partition, retirers)
        finally:
            for retirer in retirers:
                await retirer.close()

    async def _follow(
        self, source: InboxSource, stop: asyncio.Event, partition: int, retirers: list[Retirer]
    ) -> None:
        while not stop.is_set():
            tracking = await self.readable(source, stop)
            if tracking is None:
                return
            count = self.partitions.get(source.name, 1)
            if partition >= count:
                log.warning("no such partition", source=source.name, partition=partition)
                return
            reading = Reading.of(source, tracking, partition, count)
            position = await self.writer.run(self.position, reading)
            retirer = self._retirer(reading)
            if retirer is not None:  # what was recorded and not yet purged (a crash between)
                retirers.append(retirer)
                await retirer.retire(position)
            try:
                sub = await self.js.pull_subscribe(
                    reading.filter,
                    stream=source.stream,
                    config=ConsumerConfig(
                        deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
                        opt_start_seq=position + 1,
                        ack_policy=AckPolicy.NONE,
                        inactive_threshold=60.0,
                    ),
                )
            except Exception as exc:  # the server may be restarting: try again shortly
                log.warning("inbox subscribe failed", source=source.name, error=repr(exc))
                await asyncio.sleep(1.0)
                continue
            try:
                await self._drain(sub, reading, stop)
            except Exception as exc:
                # A lost ephemeral consumer, a server restart: resubscribe from the position.
                log.warning("inbox reading interrupted", source=source.name, error=repr(exc))
                await asyncio.sleep(0.5)
            finally:
                try:
                    await sub.unsubscribe()
                except Exception as exc:
                    log.debug("inbox unsubscribe failed", error=repr(exc))

    async def _drain(
        self,
        sub: JetStreamContext.PullSubscription,
        reading: Reading,
        stop: asyncio.Event,
    ) -> None:
        delivered = 0  # the consumer's sequence of the last message taken
        while not stop.is_set():
            messages = await fetch_ready(sub, self.batch)
            if messages:
                delivered = check_deliveries(messages, delivered)
                await self._handle(messages, reading)

    async def _handle(self, messages: list[Msg], reading: Reading) -> None:
        source = reading.source
        by_seq = {m.metadata.sequence.stream: m for m in messages}
        dead: dict[int, str] = {}
        pause = 0.1
        while True:
            try:
                applied = await self.writer.run(self._save_batch, reading, messages, dead)
            except IntegrityError:
                # Another writer recorded these positions (or one of these cases) first: the
                # next attempt re-reads the position and the cases and applies what is left.
                await asyncio.sleep(pause)
                continue
            except Exception as exc:
                log.error(
                    "ledger write failed, retrying",
                    source=source.name,
                    first_seq=min(by_seq),
                    last_seq=max(by_seq),
                    error=repr(exc),
                )
                await asyncio.sleep(pause)
                pause = min(pause * 2, 5.0)
                continue
            if isinstance(applied, BatchSaved):
                saved = applied.messages
                break
            # Kept on the dead-letter stream before the position moves past them.
            for seq, reason in applied.dead:
                log.warning("dead letter", source=source.name, seq=seq, reason=reason)
                await dead_letter(self.js, "ledger", by_seq[seq], reason)
                dead[seq] = reason
        log.debug("inbox batch", source=source.name, messages=len(messages), saved=saved)
        retirer = self._retirer(reading)
        if retirer is not None:
            # Every message of the batch is at or below the committed position by now (saved,
            # dead-lettered and passed over, or recorded before).
            retirer.retire_soon(max(by_seq))
        if saved:
            self.on_saved()
            await self._sample(source, messages[-1])

    async def _sample(self, source: InboxSource, last: Msg) -> None:
        self._last_read[source.name] = sample = _sample_of(last)
        now = time.monotonic()
        if now - self._sampled_at.get(source.name, -SAMPLE_EVERY) >= SAMPLE_EVERY:
            self._sampled_at[source.name] = now
            try:
                await self.writer.run(self.ledger.followed_streams.sample, source.name, sample)
            except Exception as exc:  # the store is away: the batch is saved, sample later
                log.warning("could not record a stream sample", source=source.name, error=repr(exc))

    def _save_batch(
        self, reading: Reading, messages: list[Msg], dead: dict[int, str]
    ) -> BatchSaved | BatchRefused:
        """On the writer thread: apply what is past the position and save it.

        Saves nothing and answers `BatchRefused` when it meets unprocessable messages that are
        not yet in `dead`; the caller files them and calls again.
        """
        source = reading.source
        position = self.position(reading)
        todo = [m for m in messages if m.metadata.sequence.stream > position]
        if not todo:
            return BatchSaved(0)
        batch = self.ledger.batch()
        found: list[tuple[int, str]] = []
        for msg in todo:
            seq = msg.metadata.sequence.stream
            if seq in dead:
                continue
            try:
                self._apply(batch, msg, source)
            except Unprocessable as exc:  # it changed nothing in the batch (see CaseBatch)
                found.append((seq, str(exc)))
        if found:
            return BatchRefused(found)
        last = max(m.metadata.sequence.stream for m in todo)
        self.ledger.save_batch(batch, Tracking(reading.tracking, last))
        failpoint("ledger.after-save")  # saved, not yet published by the outbox
        return BatchSaved(len(todo))

    def _apply(self, batch: CaseBatch, msg: Msg, source: InboxSource) -> Filing:
        self.activity.touch()
        message = decode(source.model, msg.data)
        published = subjects.published_form(msg.subject, source.pattern)
        if published != source.sender_subject(message):
            raise Unprocessable(
                f"{source.model.__name__} from a sender that does not own {published}"
            )
        case_id = str(message.envelope.case_id)  # type: ignore[attr-defined]
        with tracer().start_as_current_span(
            f"ledger {source.name}",
            context=extract_trace_context(msg.headers),
            attributes={"ventanilla.case_id": case_id},
        ):
            filing = source.apply(batch, message)
            case = batch.case(message.envelope.case_id)  # type: ignore[attr-defined]
            if case is not None:
                stamp_trace(case, current_trace_id())
            self.traces.remember(message.envelope.case_id)  # type: ignore[attr-defined]
            return filing


class DeliveryGap(Exception):
    """A message the consumer delivered never arrived (lost in flight, e.g. with the server
    that carried it): reading on would move the position past it."""


def check_deliveries(messages: list[Msg], delivered: int) -> int:
    """The consumer sequence of the last of `messages`; raises `DeliveryGap` when they do not
    follow `delivered` one by one.

    The inbox's consumers do not ack (the position is the record), so the server never sends a
    message twice, and one lost on its way (a connection that died with a cluster node, under
    load) is never sent again: the next ones would be applied and the position would pass it.
    Every delivery of such a consumer is numbered 1, 2, 3, ...: a jump means a loss, and the
    inbox reads again from its committed position with a new consumer.
    """
    for msg in messages:
        number = msg.metadata.sequence.consumer
        if number != delivered + 1:
            raise DeliveryGap(f"delivery {delivered + 1} never arrived (got {number})")
        delivered = number
    return delivered


def partitions_tracked(count: int) -> Callable[[str], tuple[str, ...]]:
    """The tracking names a source's positions are saved under, from its own name."""

    def names(tracking: str) -> tuple[str, ...]:
        if count == 1:
            return (tracking,)
        return (tracking, *(partition_tracking(tracking, p) for p in range(count)))

    return names


def _sample_of(msg: Msg) -> Sample:
    meta = msg.metadata
    return Sample(meta.sequence.stream, meta.timestamp.isoformat(timespec="microseconds"))
