// Hardhat config of docker-compose's `chain` service: the same devnet that `npm start` spawns
// (src/devnet/hardhat.ts): chain id 84532, hardhat's public test mnemonic, automine.
module.exports = {
  networks: {
    hardhat: {
      chainId: 84532,
      accounts: { mnemonic: "test test test test test test test test test test test junk", count: 20 },
      mining: { auto: true, interval: 0 },
      allowBlocksWithSameTimestamp: true,
    },
  },
};
