package dev.proxyfilter.forward;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

/** What travels on the cluster's admin topic: every command survives the trip, and a bad line is refused. */
class AdminCommandTest {

    @Test
    void everyCommandReadsBackAsItWasWritten() {
        for (AdminCommand command : List.of(
                AdminCommand.drain("web", "b"),
                AdminCommand.disable("web", "b"),
                AdminCommand.enable("web", "b"),
                AdminCommand.weight("web", "b", 0),
                AdminCommand.weight("web", "b", 1_000_000),
                AdminCommand.reload(),
                AdminCommand.purgeUrl("http://shop.example/a?b=1"),
                AdminCommand.purgePrefix("http://shop.example/api/"))) {
            assertThat(AdminCommand.decode(command.encode())).isEqualTo(command);
        }
    }

    @Test
    void aBadWeightOrLineIsRefusedWithTheUsualMessage() {
        assertThatThrownBy(() -> AdminCommand.weight("web", "b", -1))
                .hasMessage("weight: -1 (expected: integer 0..1000000)");
        assertThatThrownBy(() -> AdminCommand.decode("EXPLODE\tweb\tb\t"))
                .hasMessageStartingWith("command: EXPLODE (expected: one of [DRAIN, DISABLE");
        assertThatThrownBy(() -> AdminCommand.decode("DRAIN web b"))
                .hasMessage("command: DRAIN web b (expected: ACTION, pool, backend, value)");
    }
}
