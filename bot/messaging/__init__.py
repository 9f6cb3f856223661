"""Channel messaging for WhatsApp and Telegram: persist inbound deliveries before acknowledging,
process them in the background, and send every outbound message through one rate-limited,
retrying outbox."""
