import { Module } from '@nestjs/common';
import { getConfigToken } from '@nestjs/config';
import { APP_GUARD } from '@nestjs/core';
import { JwtModule } from '@nestjs/jwt';
import { PassportModule } from '@nestjs/passport';
import type { KeyObject } from 'node:crypto';
import type { JwtSettings } from '../config/configuration';
import { AuthController } from './auth.controller';
import { JwtAuthGuard } from './jwt-auth.guard';
import { JWT_KEY, jwtKey } from './jwt-key';
import { JwtStrategy } from './jwt.strategy';
import { TokenValidator } from './token-validator';
import { UsersModule } from '../users/users.module';
import { TokenService } from './token.service';

const jwtKeyProvider = {
  provide: JWT_KEY,
  inject: [getConfigToken('jwt')],
  useFactory: (settings: JwtSettings) => jwtKey(settings.secret),
};

@Module({
  imports: [
    UsersModule,
    PassportModule,
    JwtModule.registerAsync({
      extraProviders: [jwtKeyProvider],
      inject: [JWT_KEY],
      useFactory: (key: KeyObject) => ({
        secretOrKeyProvider: () => key,
        signOptions: { algorithm: 'HS256' },
        verifyOptions: { algorithms: ['HS256'] },
      }),
    }),
  ],
  controllers: [AuthController],
  providers: [jwtKeyProvider, JwtStrategy, TokenValidator, TokenService, { provide: APP_GUARD, useClass: JwtAuthGuard }],
  exports: [TokenService],
})
export class AuthModule {}
