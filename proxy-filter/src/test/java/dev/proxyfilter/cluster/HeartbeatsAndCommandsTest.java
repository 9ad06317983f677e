package dev.proxyfilter.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.proxyfilter.testing.FakeClock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@link Heartbeats} and {@link ClusterCommands} over in-memory topics ({@link LocalTopics}) and a fake clock:
 * who is known, late and forgotten; which nodes apply and acknowledge a command, which fail, which are missing.
 */
@Timeout(10)
class HeartbeatsAndCommandsTest {
    private final FakeClock clock = new FakeClock();
    private final LocalTopics topics = new LocalTopics();
    private final List<AutoCloseable> closing = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable c : closing) {
            c.close();
        }
    }

    private Heartbeats heartbeats(LocalTopics.Node node, long generation) {
        Heartbeats heartbeats = new Heartbeats(
                node,
                () -> Map.of("address", node.address(), "generation", Long.toString(generation)),
                clock::nanoTime);
        closing.add(heartbeats);
        heartbeats.beat();
        return heartbeats;
    }

    @Test
    void everyNodeKnowsTheOthersAtOnceThenLateThenForgotten() {
        LocalTopics.Node one = topics.node("1");
        LocalTopics.Node two = topics.node("2");
        LocalTopics.Node three = topics.node("3");
        Heartbeats first = heartbeats(one, 1);
        Heartbeats second = heartbeats(two, 2);
        heartbeats(three, 3);

        // The first knew nobody when it beat; the newcomers' beats made it answer at once.
        assertThat(first.nodes()).extracting(Heartbeats.Node::id).containsExactly("1", "2", "3");
        assertThat(second.nodes()).extracting(Heartbeats.Node::id).containsExactly("2", "1", "3");
        assertThat(first.nodes().get(0).self()).isTrue();
        assertThat(first.nodes().get(2).fields())
                .containsEntry("generation", "3")
                .containsEntry("address", "10.0.0.3:5701");
        assertThat(first.live()).containsExactlyInAnyOrder("2", "3");

        clock.advance(Duration.ofSeconds(3));
        second.beat();
        assertThat(first.nodes().get(1).sinceLast()).isZero();
        assertThat(first.nodes().get(2).sinceLast()).isEqualTo(Duration.ofSeconds(3));

        clock.advance(Heartbeats.PERIOD.multipliedBy(Heartbeats.LATE_AFTER_PERIODS));
        assertThat(first.nodes().get(2).late()).as("3 silent for 9 s").isTrue();
        assertThat(first.live()).containsExactly("2");

        clock.advance(Heartbeats.PERIOD.multipliedBy(Heartbeats.FORGET_AFTER_PERIODS));
        first.beat();
        assertThat(first.nodes()).extracting(Heartbeats.Node::id).containsExactly("1");
    }

    @Test
    void aNodeThatLeavesOrCrashesIsForgottenAtOnce() {
        LocalTopics.Node one = topics.node("1");
        LocalTopics.Node two = topics.node("2");
        LocalTopics.Node three = topics.node("3");
        Heartbeats first = heartbeats(one, 1);
        Heartbeats second = heartbeats(two, 1);
        heartbeats(three, 1);

        second.close();
        assertThat(first.nodes()).extracting(Heartbeats.Node::id).containsExactly("1", "3");

        three.crash();
        assertThat(first.nodes()).extracting(Heartbeats.Node::id).containsExactly("1");
    }

    @Test
    void aCommandIsAppliedByEveryOtherNodeAndTheAnswerSaysWhichDidWhichFailedAndWhichAreMissing() {
        LocalTopics.Node one = topics.node("1");
        LocalTopics.Node two = topics.node("2");
        LocalTopics.Node three = topics.node("3");
        LocalTopics.Node four = topics.node("4");
        List<String> applied = new CopyOnWriteArrayList<>();
        ClusterCommands sender = null;
        for (LocalTopics.Node node : List.of(one, two, three, four)) {
            Heartbeats heartbeats = heartbeats(node, 1);
            ClusterCommands commands = new ClusterCommands(
                    node,
                    heartbeats::live,
                    (command, from) -> {
                        if (node == three) {
                            throw new IllegalArgumentException("backend: b (expected: one of [a])");
                        }
                        applied.add(node.nodeId() + " " + command + " from " + from);
                        return "done " + command;
                    },
                    Runnable::run);
            closing.add(commands);
            if (node == one) {
                sender = commands;
            }
        }
        four.deaf = true; // a partition: it neither hears nor answers

        long start = System.nanoTime();
        ClusterCommands.Fanout fanout = sender.send("DRAIN\tweb\tb\t", Duration.ofMillis(300));

        assertThat(applied).containsExactly("2 DRAIN\tweb\tb\t from 1");
        assertThat(fanout.expected()).containsExactlyInAnyOrder("2", "3", "4");
        assertThat(fanout.acks())
                .containsExactly(
                        new ClusterCommands.Ack("2", true, "done DRAIN\tweb\tb\t".replace('\t', ' ')),
                        new ClusterCommands.Ack("3", false, "backend: b (expected: one of [a])"));
        assertThat(fanout.missing()).containsExactly("4");
        assertThat(fanout.applied()).as("the sender and node 2").isEqualTo(2);
        assertThat(Duration.ofNanos(System.nanoTime() - start))
                .as("waited for the missing node, no longer")
                .isBetween(Duration.ofMillis(250), Duration.ofSeconds(3));

        four.deaf = false;
        clock.advance(Duration.ofSeconds(10)); // 4's last heartbeat is late now: not expected any more
        for (LocalTopics.Node node : List.of(two, three)) {
            node.publish(Heartbeats.TOPIC, "B\taddress=" + node.address());
        }
        start = System.nanoTime();
        fanout = sender.send("ENABLE\tweb\tb\t", Duration.ofSeconds(5));
        assertThat(fanout.expected()).containsExactlyInAnyOrder("2", "3");
        assertThat(fanout.missing()).isEmpty();
        assertThat(Duration.ofNanos(System.nanoTime() - start))
                .as("all answered: no wait")
                .isLessThan(Duration.ofSeconds(2));
    }
}
