package compatgraceful;

import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicReference;

import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.client.producer.SendStatus;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.remoting.RemotingClient;

/**
 * Sends COUNT messages, one every INTERVAL ms, refreshing routes from the name servers
 * every POLL ms (instead of the client's 30 s), and prints "NS addr at i" whenever the
 * client's chosen name server changes (read from NettyRemotingClient#namesrvAddrChoosed).
 *
 *   PacedProducer namesrvAddr topic count intervalMs pollMs
 *
 * Prints "SENT ok FAILED failed" at the end; exits 0 only if every send was SEND_OK.
 * Compiled by compat/scenarios/graceful_shutdown.sh into its work dir.
 */
public final class PacedProducer {
    public static void main(String[] args) throws Exception {
        String namesrv = args[0];
        String topic = args[1];
        int count = Integer.parseInt(args[2]);
        long interval = Long.parseLong(args[3]);
        int poll = Integer.parseInt(args[4]);
        DefaultMQProducer producer = new DefaultMQProducer("compat_graceful_producer");
        producer.setNamesrvAddr(namesrv);
        producer.setInstanceName("graceful-" + ProcessHandle.current().pid());
        producer.setSendMsgTimeout(5000);
        producer.setRetryTimesWhenSendFailed(2);
        producer.setPollNameServerInterval(poll);
        producer.start();
        RemotingClient client = producer.getDefaultMQProducerImpl().getMqClientFactory()
            .getMQClientAPIImpl().getRemotingClient();
        Field f = client.getClass().getDeclaredField("namesrvAddrChoosed");
        f.setAccessible(true);
        @SuppressWarnings("unchecked")
        AtomicReference<String> chosen = (AtomicReference<String>) f.get(client);
        String last = null;
        int ok = 0;
        int failed = 0;
        for (int i = 0; i < count; i++) {
            String body = "graceful-" + i;
            Message msg = new Message(topic, "graceful", body, body.getBytes(StandardCharsets.UTF_8));
            try {
                SendResult r = producer.send(msg);
                if (r.getSendStatus() == SendStatus.SEND_OK) {
                    ok++;
                } else {
                    failed++;
                    System.out.println("send " + i + ": " + r.getSendStatus());
                }
            } catch (Exception e) {
                failed++;
                System.out.println("send " + i + ": " + e);
            }
            String now = chosen.get();
            if (now != null && !now.equals(last)) {
                System.out.println("NS " + now + " at " + i);
                last = now;
            }
            System.out.flush();
            Thread.sleep(interval);
        }
        System.out.println("SENT " + ok + " FAILED " + failed);
        System.out.flush();
        producer.shutdown();
        System.exit(failed == 0 && ok == count ? 0 : 1);
    }
}
