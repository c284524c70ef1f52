package compat;

import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.client.producer.SendStatus;
import org.apache.rocketmq.common.message.Message;

import java.nio.charset.StandardCharsets;

/**
 * Sends N messages to a topic through the NameServer(s) given.
 *
 *   Producer <namesrvAddr> <topic> <count> [group] [bodyPrefix]
 *
 * Prints "SENT n" (n = messages acknowledged SEND_OK) and exits 0 only if n == count.
 * With -Dcompat.accessKey=AK -Dcompat.secretKey=SK every request is signed (Credentials).
 * Uses only API common to rocketmq-client 4.9.x and 5.x.
 */
public final class Producer {
    public static void main(String[] args) {
        if (args.length < 3) {
            System.err.println("usage: Producer <namesrvAddr> <topic> <count> [group] [bodyPrefix]");
            System.exit(2);
        }
        String namesrv = args[0];
        String topic = args[1];
        int count = Integer.parseInt(args[2]);
        String group = args.length > 3 ? args[3] : "compat_producer";
        String prefix = args.length > 4 ? args[4] : "compat";
        int sent = 0;
        int rc = 1;
        // -Dcompat.accessKey/-Dcompat.secretKey: sign with AclClientRPCHook (see Credentials)
        var hook = Credentials.hook();
        DefaultMQProducer producer = hook == null ? new DefaultMQProducer(group) : new DefaultMQProducer(group, hook);
        try {
            producer.setNamesrvAddr(namesrv);
            producer.setInstanceName("compat-" + ProcessHandle.current().pid());
            producer.setSendMsgTimeout(5000);
            producer.setRetryTimesWhenSendFailed(2);
            producer.start();
            RemotingVersion.apply();
            for (int i = 0; i < count; i++) {
                String body = prefix + "-" + i;
                Message msg = new Message(topic, "compat", body, body.getBytes(StandardCharsets.UTF_8));
                try {
                    SendResult r = producer.send(msg);
                    if (r.getSendStatus() == SendStatus.SEND_OK) {
                        sent++;
                    } else {
                        System.err.println("send " + i + ": " + r.getSendStatus());
                    }
                } catch (Exception e) {
                    System.err.println("send " + i + ": " + e);
                }
            }
            rc = sent == count ? 0 : 1;
        } catch (Exception e) {
            System.err.println("producer failed: " + e);
            e.printStackTrace();
        } finally {
            System.out.println("SENT " + sent);
            System.out.flush();
            try {
                producer.shutdown();
            } catch (Exception ignored) {
                // exiting anyway
            }
        }
        System.exit(rc);
    }
}
